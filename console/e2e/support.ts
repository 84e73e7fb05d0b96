// What the browser tests share: tokens minted by the server binary for seeded users,
// GraphQL calls to check effects through the public API, signing in through the page,
// screenshots into e2e/screenshots/, and the time each screen's data took.
import { expect, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { appendFileSync, mkdirSync } from "node:fs";

const base = () => process.env.E2E_BASE_URL ?? "";

/** Where the screenshots and timings go (not committed; the README names it). */
export const SCREENSHOTS = "e2e/screenshots";

/** A console token for a seeded user (database id or global ID), from `zhiku token`. */
export function token(user: string | number, audience = "console"): string {
  return execFileSync(process.env.ZHIKU_BIN ?? "", ["token", "--user", String(user), "--audience", audience], {
    env: {
      ...process.env,
      DATABASE_URL: process.env.E2E_DATABASE_URL ?? `sqlite://${process.env.E2E_DATA_DIR}/demo.db?mode=rwc`,
    },
    encoding: "utf8",
  }).trim();
}

/** A GraphQL request to the server as a client would make it; throws on errors. */
export async function gql<T = any>(query: string, variables: object = {}, bearer?: string): Promise<T> {
  const response = await fetch(`${base()}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/graphql-response+json",
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data as T;
}

/** Signs in through the page with a pasted token and waits for the frame. */
export async function signIn(page: Page, bearer: string, path = "/console") {
  await page.goto(path);
  await page.locator("textarea[name=token]").fill(bearer);
  await page.getByRole("button", { name: "登录" }).click();
  await expect(page.locator(".sidebar")).toBeVisible();
}

/** Records how long each GraphQL operation took, by operation name, until `stop`. */
export function timeOperations(page: Page) {
  const timings: { operation: string; ms: number }[] = [];
  page.on("requestfinished", (request) => {
    if (!request.url().endsWith("/graphql") || request.method() !== "POST") return;
    const operation = /(?:query|mutation)\s+(\w+)/.exec(request.postDataJSON()?.query ?? "")?.[1] ?? "?";
    const timing = request.timing();
    timings.push({ operation, ms: Math.round(timing.responseEnd - timing.requestStart) });
  });
  return timings;
}

/** Saves a screenshot of the page as `name`.png and appends the screen's data
 * timings to timings.txt beside it. */
export async function capture(page: Page, name: string, timings: { operation: string; ms: number }[] = []) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: true });
  for (const { operation, ms } of timings.splice(0)) {
    appendFileSync(`${SCREENSHOTS}/timings.txt`, `${name}\t${operation}\t${ms} ms\n`);
  }
}
