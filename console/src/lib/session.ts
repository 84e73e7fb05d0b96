// The signed-in session, kept in memory only: a reload or a closed tab signs out, so no
// token ever reaches localStorage where another script on the origin could read it.
// React reads it through `useSession` (useSyncExternalStore).
import { useSyncExternalStore } from "react";

/** What the console knows about the signed-in person. */
export interface Viewer {
  id: string;
  nickname: string | null;
  role: "ADMIN" | "CREATOR" | "LEARNER";
  creatorId: string | null;
}

/** A console session: the bearer token, when it ends, how to renew it, and who it is. */
export interface Session {
  accessToken: string;
  expiresAt: number | null;
  refreshToken: string | null;
  viewer: Viewer;
}

/** Why the last session ended, shown on the sign-in screen. */
export type EndReason = "expired" | "signedOut" | null;

let current: Session | null = null;
let endReason: EndReason = null;
const listeners = new Set<() => void>();

function emit() {
  for (const listener of listeners) listener();
}

/** The session now, or null when signed out. */
export function session(): Session | null {
  return current;
}

/** Starts (or renews) the session. */
export function signIn(next: Session) {
  current = next;
  endReason = null;
  emit();
}

/** Ends the session; `reason` tells the sign-in screen what happened. */
export function signOut(reason: EndReason) {
  if (current === null) return;
  current = null;
  endReason = reason;
  emit();
}

/** Why the last session ended. */
export function lastEndReason(): EndReason {
  return endReason;
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The session, re-rendering when it changes. */
export function useSession(): Session | null {
  return useSyncExternalStore(subscribe, session);
}

/** The JWT's audience claim, read without checking the signature (the server checks it). */
export function tokenAudience(token: string): string | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    const aud = JSON.parse(json).aud;
    return typeof aud === "string" ? aud : null;
  } catch {
    return null;
  }
}

/** The audience of tokens the console accepts. */
export const CONSOLE_AUDIENCE = "zhiku-console";
