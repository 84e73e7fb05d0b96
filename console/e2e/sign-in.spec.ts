// Signing in to the console with WeChat's QR sign-in (the website app, against the
// fake WeChat of e2e/fake-wechat.mjs), and a session that ends when the server stops
// honouring its token (a 401 returns to sign-in).
import { expect, test } from "@playwright/test";
import { capture, gql, signIn, token } from "./support";

/** Says who scans the next QR code at the fake WeChat. */
async function scannedBy(unionid: string) {
  await fetch(`${process.env.E2E_WECHAT_URL}/scanner`, { method: "POST", body: JSON.stringify({ unionid }) });
}

test("an admin signs in by scanning WeChat's QR code; a learner is turned away", async ({ page }) => {
  await scannedBy("demo-unionid-00001");
  await page.goto("/console/orders?status=PAID");
  await page.getByRole("link", { name: "微信扫码登录" }).click();
  await expect(page.locator(".sidebar")).toBeVisible();
  await expect(page.locator(".topbar .who")).toContainText("管理员");
  // The code and state are gone from the address: a reload cannot replay them.
  expect(page.url()).not.toContain("code=");

  await page.getByRole("button", { name: "退出" }).click();
  await expect(page.getByText("已退出。")).toBeVisible();
  await scannedBy("demo-unionid-01500");
  await page.getByRole("link", { name: "微信扫码登录" }).click();
  const refusal = page.locator(".qr .field-error");
  await expect(refusal).toHaveText("此微信账号不是本平台的管理员或创作者");
  await expect(refusal).toHaveAttribute("data-code", "NOT_STAFF");
  await expect(page.locator(".sidebar")).toHaveCount(0);
  await capture(page, "sign-in-refused");
});

test("a session whose token stops working returns to sign-in", async ({ page }) => {
  const admin = token(1);
  const creator = await gql(`{ users(filter: {role: CREATOR}, first: 1, orderBy: {field: NICKNAME, direction: ASC}) { nodes { id } } }`, {}, admin);
  const creatorUser = creator.users.nodes[0].id;
  await signIn(page, token(creatorUser), "/console/creator/courses");
  await expect(page.getByTestId("my-courses")).toBeVisible();
  // An admin bans them elsewhere: their next request is refused with 401.
  await gql(`mutation($u: ID!) { banUser(input: {user: $u}) { userErrors { code } } }`, { u: creatorUser }, admin);
  await page.getByRole("button", { name: "已发布" }).click();
  await expect(page.getByText("登录已过期，请重新登录。")).toBeVisible();
  await expect(page.locator(".sidebar")).toHaveCount(0);
  await gql(`mutation($u: ID!) { unbanUser(input: {user: $u}) { userErrors { code } } }`, { u: creatorUser }, admin);
});

test("a QR session renews its access token shortly before it expires", async ({ page }) => {
  // The browser's clock is moved forward; the server's tokens live two hours.
  await page.clock.install();
  await scannedBy("demo-unionid-00001");
  await page.goto("/console/");
  await page.getByRole("link", { name: "微信扫码登录" }).click();
  await expect(page.locator(".sidebar")).toBeVisible();
  const requests: { operation: string; bearer: string }[] = [];
  page.on("request", (request) => {
    if (!request.url().endsWith("/graphql") || request.method() !== "POST") return;
    const operation = /(?:query|mutation)\s+(\w+)/.exec(request.postDataJSON()?.query ?? "")?.[1] ?? "?";
    requests.push({ operation, bearer: request.headers()["authorization"] ?? "" });
  });
  await page.getByRole("link", { name: "订单" }).click();
  await expect(page.getByTestId("orders")).toBeVisible();
  await page.clock.fastForward("01:59:30");
  await page.getByRole("link", { name: "用户" }).click();
  await expect(page.getByTestId("users")).toBeVisible();

  const before = requests.find((r) => r.operation === "OrdersList");
  const renewal = requests.findIndex((r) => r.operation === "ConsoleRefresh");
  const after = requests.find((r) => r.operation === "UsersList");
  expect(before?.bearer).toMatch(/^Bearer /);
  expect(renewal).toBeGreaterThan(-1);
  expect(requests[renewal].bearer).toBe(""); // the refresh token travels in the body
  expect(after?.bearer).toMatch(/^Bearer /);
  expect(after?.bearer).not.toBe(before?.bearer);
});
