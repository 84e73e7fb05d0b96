// Browser tests of the console: Playwright drives Debian's Chromium (no browser
// download) against the real server binary on freshly seeded demo data (e2e/serve.sh).
// `npm run e2e`; .ci/run builds the server first and installs chromium when missing.
import { defineConfig } from "@playwright/test";
import { resolve } from "node:path";

const port = Number(process.env.E2E_PORT ?? 18431);
process.env.E2E_BASE_URL = `http://127.0.0.1:${port}`;
process.env.E2E_DATA_DIR ??= resolve("e2e/.data");
process.env.ZHIKU_BIN ??= resolve("../target/debug/zhiku");
// The website app the console's QR sign-in uses, served by e2e/fake-wechat.mjs.
const wechatPort = Number(process.env.E2E_WECHAT_PORT ?? 18432);
process.env.E2E_WECHAT_URL = `http://127.0.0.1:${wechatPort}`;
process.env.ZHIKU_WECHAT_API_BASE = process.env.E2E_WECHAT_URL;
process.env.ZHIKU_OA_AUTHORIZE_BASE = process.env.E2E_WECHAT_URL;
process.env.ZHIKU_WEB_APPID = "wx-e2e-website";
process.env.ZHIKU_WEB_SECRET = "e2e-website-secret";
process.env.ZHIKU_WEB_REDIRECT_URIS = `${process.env.E2E_BASE_URL}/console/`;

export default defineConfig({
  testDir: "e2e",
  // The tests share one seeded database and change it (refunds, bans): one at a time.
  workers: 1,
  fullyParallel: false,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  outputDir: "e2e/.results",
  use: {
    baseURL: process.env.E2E_BASE_URL,
    viewport: { width: 1280, height: 800 },
    locale: "zh-CN",
    timezoneId: "America/Los_Angeles",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: [
    {
      command: "node e2e/fake-wechat.mjs",
      url: `${process.env.E2E_WECHAT_URL}/healthz`,
      reuseExistingServer: false,
    },
    {
      command: "sh e2e/serve.sh",
      url: `${process.env.E2E_BASE_URL}/healthz`,
      timeout: 180_000,
      reuseExistingServer: false,
      stdout: "ignore",
      stderr: "pipe",
    },
  ],
});
