// An admin runs the platform from the console: sign in with a token, read the
// dashboard, filter and page the orders, refund one, ban a user; every effect is
// checked again through the public API.
import { expect, test } from "@playwright/test";
import { capture, gql, signIn, timeOperations, token } from "./support";

/** Months of the demo data (it starts on 2026-01-01 whatever today is). */
const DEMO_RANGE = "from=2026-02-01&to=2026-07-31&by=WEEK";

test("the first load of the console stays under 300 KB of compressed JavaScript", async ({ page }) => {
  let bytes = 0;
  page.on("response", async (response) => {
    if (response.url().endsWith(".js")) bytes += (await response.body()).length;
  });
  // The transferred size: the server sends the precompressed copy the browser accepts.
  const sizes: number[] = [];
  page.on("requestfinished", async (request) => {
    if (request.url().endsWith(".js")) sizes.push((await request.sizes()).responseBodySize);
  });
  await signIn(page, token(1), `/console/dashboard?${DEMO_RANGE}`);
  await expect(page.getByTestId("trend").locator("canvas")).toBeVisible();
  const compressed = sizes.reduce((sum, size) => sum + size, 0);
  console.log(`first load: ${sizes.length} scripts, ${compressed} bytes compressed, ${bytes} bytes unpacked`);
  expect(compressed).toBeGreaterThan(0);
  expect(compressed).toBeLessThan(300 * 1024);
});

test("an admin signs in with a token and sees the platform's figures", async ({ page }) => {
  const timings = timeOperations(page);
  await signIn(page, token(1), `/console/dashboard?${DEMO_RANGE}`);
  const gmv = page.getByTestId("gmv").locator("strong");
  await expect(gmv).toHaveText(/^¥[\d,]+\.\d\d$/);
  await expect(gmv).not.toHaveText("¥0.00");
  await expect(page.getByTestId("paid-orders").locator("strong")).not.toHaveText("0");
  // The demo's feed showed recommendations that were opened and bought.
  const funnel = page.getByTestId("funnel").locator("li strong");
  await expect(funnel).toHaveCount(3);
  for (const step of await funnel.allInnerTexts()) expect(Number(step)).toBeGreaterThan(0);
  await expect(page.getByTestId("trend").locator("canvas")).toBeVisible();
  await capture(page, "admin-dashboard", timings);

  // English is a switch away, and the address keeps the range.
  await page.getByRole("button", { name: "English" }).click();
  await expect(page.getByRole("link", { name: "Orders" })).toBeVisible();
  await expect(page).toHaveURL(/from=2026-02-01/);
  await page.getByRole("button", { name: "中文" }).click();
});

test("orders filter by status, page forward and keep the filter in the address", async ({ page }) => {
  const timings = timeOperations(page);
  await signIn(page, token(1), "/console/orders");
  await page.locator("select[name=status]").selectOption("PAID");
  await page.getByRole("button", { name: "筛选" }).click();
  await expect(page).toHaveURL(/status=PAID/);
  const rows = page.getByTestId("orders").locator("tbody tr");
  await expect(rows).toHaveCount(20);
  await expect(rows.locator("[data-status]")).toHaveText(Array(20).fill("已支付"));
  const firstPage = await rows.first().locator("td").first().innerText();
  await capture(page, "admin-orders", timings);

  await page.getByRole("button", { name: "下一页" }).click();
  await expect(page).toHaveURL(/after=/);
  await expect(rows.first().locator("td").first()).not.toHaveText(firstPage);
  await expect(rows.locator("[data-status]").first()).toHaveText("已支付");

  // The address alone reproduces the page: open it afresh and see the same first row.
  const second = await rows.first().locator("td").first().innerText();
  const link = page.url();
  await page.goto(link);
  await page.locator("textarea[name=token]").fill(token(1));
  await page.getByRole("button", { name: "登录" }).click();
  await expect(rows.first().locator("td").first()).toHaveText(second);
  await expect(page.locator("select[name=status]")).toHaveValue("PAID");
});

test("an admin refunds an order with a reason and sees its status change", async ({ page }) => {
  const admin = token(1);
  const timings = timeOperations(page);
  await signIn(page, admin, "/console/orders?status=PAID&kind=COURSE");
  const first = page.getByTestId("orders").locator("tbody tr").first().getByRole("link");
  const number = await first.innerText();
  await first.click();
  await expect(page.getByTestId("order-status")).toHaveText("已支付");
  await capture(page, "admin-order", timings);
  await page.locator("input[name=reason]").fill("课程内容与描述不符");
  await page.getByRole("button", { name: "全额退款" }).click();
  await expect(page.getByTestId("order-status")).toHaveText("已退款");
  await expect(page.getByText("课程内容与描述不符")).toBeVisible();

  const id = decodeURIComponent(page.url().split("/orders/")[1]);
  const data = await gql(`query($id: ID!) { order(id: $id) { outTradeNo status refunds { reason status } } }`, { id }, admin);
  expect(data.order).toEqual({
    outTradeNo: number,
    status: "REFUNDED",
    refunds: [{ reason: "课程内容与描述不符", status: "SUCCESS" }],
  });
});

test("an admin finds a user, bans them and lifts the ban", async ({ page }) => {
  const admin = token(1);
  const timings = timeOperations(page);
  await signIn(page, admin, "/console/users");
  await page.locator("input[name=q]").fill("学员1999");
  await page.getByRole("button", { name: "筛选" }).click();
  await expect(page).toHaveURL(/q=/);
  const row = page.getByTestId("users").locator("tbody tr").filter({ hasText: "学员1999" });
  await expect(row).toHaveCount(1);
  await row.getByRole("button", { name: "封禁" }).click();
  await expect(row.getByText("已封禁")).toBeVisible();
  await capture(page, "admin-users", timings);

  const banned = await gql(
    `{ users(filter: {banned: true, nicknameContains: "学员1999"}) { nodes { nickname bannedAt } } }`,
    {},
    admin,
  );
  expect(banned.users.nodes).toHaveLength(1);
  expect(banned.users.nodes[0].bannedAt).not.toBeNull();

  await row.getByRole("button", { name: "解封" }).click();
  await expect(row.getByText("已封禁")).toHaveCount(0);
  const after = await gql(`{ users(filter: {banned: true, nicknameContains: "学员1999"}) { totalCount } }`, {}, admin);
  expect(after.users.totalCount).toBe(0);
});

test("a learner's token and a mini-program token are refused with their own messages", async ({ page }) => {
  await page.goto("/console");
  await page.locator("textarea[name=token]").fill(token(2000));
  await page.getByRole("button", { name: "登录" }).click();
  await expect(page.getByRole("alert")).toHaveText("此账号不是管理员或创作者，不能使用控制台。");
  await page.locator("textarea[name=token]").fill(token(1, "miniprogram"));
  await page.getByRole("button", { name: "登录" }).click();
  await expect(page.getByRole("alert")).toHaveText("此令牌不是控制台令牌（需要 console 受众）。");
  await capture(page, "sign-in");
});
