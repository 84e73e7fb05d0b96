// The GraphQL client (urql) on the public `/graphql` endpoint: every request carries the
// session's bearer token, renewed with `refreshToken` shortly before it expires when the
// session has a refresh token; a 401 ends the session and returns to sign-in.
// Subscriptions (live rooms) go over one WebSocket on the same path (graphql-ws),
// opened only while a screen subscribes, signed in through `connection_init`.
import { createClient as createSocket } from "graphql-ws";
import { Client, cacheExchange, fetchExchange, subscriptionExchange } from "urql";
import { session, signIn, signOut } from "./session";

/** Renew this long before the access token expires. */
const RENEW_MARGIN_MS = 60_000;

const REFRESH = `mutation ConsoleRefresh($token: String!) {
  refreshToken(input: { refreshToken: $token }) {
    accessToken accessTokenExpiresAt refreshToken userErrors { code message }
  }
}`;

let renewing: Promise<void> | null = null;

/** Renews the session's token once (concurrent callers wait for the same renewal). */
async function renew(): Promise<void> {
  const now = session();
  if (!now?.refreshToken) return;
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json" },
    body: JSON.stringify({ query: REFRESH, variables: { token: now.refreshToken } }),
  });
  const body = await response.json().catch(() => null);
  const payload = body?.data?.refreshToken;
  if (!payload?.accessToken) {
    signOut("expired");
    return;
  }
  signIn({
    ...now,
    accessToken: payload.accessToken,
    refreshToken: payload.refreshToken ?? null,
    expiresAt: payload.accessTokenExpiresAt ? Date.parse(payload.accessTokenExpiresAt) : null,
  });
}

/** The token to send now, renewed first when it is about to expire. */
export async function currentToken(): Promise<string | null> {
  const now = session();
  if (now?.refreshToken && now.expiresAt !== null && now.expiresAt - Date.now() < RENEW_MARGIN_MS) {
    renewing ??= renew().finally(() => (renewing = null));
    await renewing;
  }
  return session()?.accessToken ?? null;
}

/** `fetch` with the bearer token, ending the session on 401. */
export async function authorizedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const token = await currentToken();
  const headers = new Headers(init?.headers);
  if (token) headers.set("authorization", `Bearer ${token}`);
  const response = await fetch(input, { ...init, headers });
  if (response.status === 401) signOut("expired");
  return response;
}

/** A client for one person's session (`_viewer` keys it: the console makes a new one
 * when the signed-in person changes, so no cached answer carries over). */
export function makeClient(_viewer: string | null): Client {
  const socket = createSocket({
    url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`,
    lazy: true,
    connectionParams: async () => {
      const token = await currentToken();
      return token ? { authorization: `Bearer ${token}` } : {};
    },
    on: {
      // 4401: the token expired while the socket was open; 4403: it was refused.
      closed: (event) => {
        const code = (event as CloseEvent | undefined)?.code;
        if (code === 4401 || code === 4403) signOut("expired");
      },
    },
  });
  return new Client({
    url: "/graphql",
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: socket.subscribe({ ...request, query: request.query ?? "" }, sink) }),
        }),
      }),
    ],
    fetch: authorizedFetch,
    preferGetMethod: false,
    requestPolicy: "cache-and-network",
  });
}
