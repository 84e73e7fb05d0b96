// An admin's other screens: hiding a rating, the community reports, the outbox, and
// operations (a payout run and a rebuild of the recommendation model), each checked
// again through the public API.
import { expect, test } from "@playwright/test";
import { capture, gql, signIn, timeOperations, token } from "./support";

test("an admin hides a rating and shows it again", async ({ page }) => {
  const admin = token(1);
  const timings = timeOperations(page);
  const hiddenCount = async () => (await gql(`{ ratings(filter: {hidden: true}) { totalCount } }`, {}, admin)).ratings.totalCount;
  const before = await hiddenCount();
  await signIn(page, admin, "/console/ratings?stars=1");
  const first = page.getByTestId("ratings").locator("tbody tr").first();
  await expect(first).toBeVisible();
  await capture(page, "admin-ratings", timings);
  const id = await first.getAttribute("data-rating");
  const row = page.locator(`tr[data-rating="${id}"]`);
  // Hidden, it leaves the list of visible ratings and joins the hidden ones.
  await row.getByRole("button", { name: "隐藏" }).click();
  await expect(row).toHaveCount(0);
  expect(await hiddenCount()).toBe(before + 1);

  await page.locator("select[name=hidden]").selectOption("true");
  await expect(page).toHaveURL(/hidden=true/);
  await expect(row.getByText("已隐藏")).toBeVisible();
  await row.getByRole("button", { name: "恢复显示" }).click();
  await expect(row).toHaveCount(0);
  expect(await hiddenCount()).toBe(before);
});

test("an admin reads the reports, the outbox and runs operations", async ({ page }) => {
  const admin = token(1);
  const timings = timeOperations(page);
  await signIn(page, admin, "/console/reports");
  await expect(page.getByRole("heading", { name: "举报" })).toBeVisible();
  await expect(page.locator(".loading")).toHaveCount(0);
  await capture(page, "admin-reports", timings);

  await page.getByRole("link", { name: "消息" }).click();
  await expect(page.getByTestId("outbox")).toBeVisible();
  await capture(page, "admin-outbox", timings);

  await page.getByRole("link", { name: "运营" }).click();
  await expect(page.getByTestId("ledger")).toContainText("¥");
  await page.getByRole("button", { name: "立即结算" }).click();
  await expect(page.getByTestId("payout-run")).toBeVisible();
  await page.getByRole("button", { name: "重建推荐模型" }).click();
  const stats = page.getByTestId("model-stats");
  await expect(stats).toBeVisible();
  await capture(page, "admin-operations", timings);
  // The figures on the page are the model the API now serves.
  const model = await gql(`mutation { rebuildRecommendations { stats { users items } } }`, {}, admin);
  await expect(stats).toContainText(String(model.rebuildRecommendations.stats.items));
});

test("an admin sets a creator's fee; an impossible one is refused beside the field", async ({ page }) => {
  const admin = token(1);
  const timings = timeOperations(page);
  await signIn(page, admin, `/console/creators?q=${encodeURIComponent("·5老师")}`);
  const row = page.getByTestId("creators").locator("tbody tr").first();
  await expect(row).toContainText("5老师");
  const creator = (await row.getAttribute("data-creator")) ?? "";
  await row.locator("input[name=fee]").fill("150");
  await row.locator("form").filter({ has: page.locator("input[name=fee]") }).getByRole("button", { name: "保存" }).click();
  await expect(row.locator(".field-error")).toHaveAttribute("data-code", "OUT_OF_RANGE");
  const unchanged = await gql(`query($c: ID!) { node(id: $c) { ... on Creator { feeBasisPoints } } }`, { c: creator }, admin);
  expect(unchanged.node.feeBasisPoints).toBeNull();

  await row.locator("input[name=fee]").fill("12.5");
  await row.locator("form").filter({ has: page.locator("input[name=fee]") }).getByRole("button", { name: "保存" }).click();
  await expect(row.locator(".field-error")).toHaveCount(0);
  await expect
    .poll(async () => (await gql(`query($c: ID!) { node(id: $c) { ... on Creator { feeBasisPoints } } }`, { c: creator }, admin)).node.feeBasisPoints)
    .toBe(1250);
  await capture(page, "admin-creators", timings);
});
