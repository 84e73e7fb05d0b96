// The console's language: Chinese (the default) or English (the words are in words/).
// `useT()` gives the function that looks a text up in the chosen language, which
// the top bar switches and localStorage remembers (it is not a secret).
import { useSyncExternalStore } from "react";
import { en } from "./words/en";
import { ZH_ERRORS, zh, type Key } from "./words/zh";

/** A language the console speaks. */
export type Language = "zh" | "en";

const STORAGE_KEY = "zhiku.console.language";
let language: Language = localStorage.getItem(STORAGE_KEY) === "en" ? "en" : "zh";
const listeners = new Set<() => void>();

/** Switches between Chinese and English and remembers the choice. */
export function toggleLanguage() {
  language = language === "zh" ? "en" : "zh";
  localStorage.setItem(STORAGE_KEY, language);
  document.documentElement.lang = language === "zh" ? "zh-CN" : "en";
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Looks a text up; `{name}` placeholders take `values`. */
export type Translate = (key: Key, values?: Record<string, string | number>) => string;

/** The text function for the current language, re-rendering when it changes. */
export function useT(): Translate {
  const chosen = useSyncExternalStore(subscribe, () => language);
  const words = chosen === "zh" ? zh : en;
  return (key, values) =>
    Object.entries(values ?? {}).reduce(
      (text, [name, value]) => text.replace(`{${name}}`, String(value)),
      words[key] ?? key,
    );
}

/** How to show a userError: Chinese for known codes in the Chinese UI, else the API's
 * message. */
export function useErrorText(): (error: { code?: string; message: string }) => string {
  const chosen = useSyncExternalStore(subscribe, () => language);
  return (error) => (chosen === "zh" && error.code && ZH_ERRORS[error.code]) || error.message;
}

/** A key of the dictionary, for texts chosen at run time (enum labels). */
export type TextKey = Key;
