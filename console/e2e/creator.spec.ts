// A creator manages their courses from the console: a refused field shows its error
// beside it; a new course gets a lesson, is published and appears in the public
// catalogue; their dashboard shows what they sold.
import { expect, test } from "@playwright/test";
import { capture, gql, signIn, timeOperations, token } from "./support";

/** A seeded creator: user 37 owns creator profile 36. */
const CREATOR_USER = 37;

test("a creator's dashboard shows their sales and live funnel", async ({ page }) => {
  const timings = timeOperations(page);
  await signIn(page, token(CREATOR_USER), "/console/creator?from=2026-02-01&to=2026-07-31&by=MONTH");
  const revenue = page.getByTestId("net-revenue").locator("strong");
  await expect(revenue).toHaveText(/^¥[\d,]+\.\d\d$/);
  await expect(revenue).not.toHaveText("¥0.00");
  await expect(page.getByTestId("live-funnel")).toBeVisible();
  await capture(page, "creator-dashboard", timings);
});

test("a refused field shows the API's error beside it and nothing is made", async ({ page }) => {
  const timings = timeOperations(page);
  await signIn(page, token(CREATOR_USER), "/console/creator/courses?new=1");
  const form = page.getByTestId("new-course");
  await form.locator("input[name=title]").fill("不会被创建的课程");
  await form.locator("input[name=category]").fill("职场技能");
  await form.locator("input[name=price]").fill("99");
  await form.locator("input[name=coverUrl]").fill("ftp://example.com/cover.png");
  await form.getByRole("button", { name: "创建" }).click();
  const coverField = form.locator("label.field").filter({ has: page.locator("input[name=coverUrl]") });
  await expect(coverField.locator(".field-error")).toBeVisible();
  await expect(coverField.locator(".field-error")).not.toBeEmpty();
  await expect(form.locator("label.field").filter({ has: page.locator("input[name=title]") }).locator(".field-error")).toHaveCount(0);
  await capture(page, "creator-field-error", timings);

  const found = await gql(`{ courses(filter: {titleContains: "不会被创建的课程", status: DRAFT}) { totalCount } }`, {}, token(1));
  expect(found.courses.totalCount).toBe(0);
});

test("a creator creates a course with a lesson, publishes it and finds it in the public list", async ({ page }) => {
  const title = `E2E 课程 ${Date.now()}`;
  const timings = timeOperations(page);
  await signIn(page, token(CREATOR_USER), "/console/creator/courses");
  await capture(page, "creator-courses", timings);
  await page.getByRole("button", { name: "新建课程" }).click();
  const form = page.getByTestId("new-course");
  await form.locator("input[name=title]").fill(title);
  await form.locator("input[name=subtitle]").fill("从零开始");
  await form.locator("input[name=category]").fill("职场技能");
  await form.locator("input[name=price]").fill("49.90");
  await form.locator("input[name=coverUrl]").fill("https://img.example.com/e2e.png");
  await form.locator("textarea[name=description]").fill("浏览器测试创建的课程。");
  await form.getByRole("button", { name: "创建" }).click();

  await expect(page).toHaveURL(/\/console\/creator\/courses\/[^/?]+$/);
  await expect(page.getByTestId("course-status")).toContainText("草稿");
  const lesson = page.getByTestId("new-lesson");
  await lesson.locator("input[name=lessonTitle]").fill("第一课：导论");
  await lesson.locator("input[name=lessonContent]").fill("https://media.example.com/e2e-1.mp4");
  await lesson.locator("input[name=lessonDuration]").fill("600");
  await lesson.locator("input[name=lessonFreePreview]").check();
  await lesson.getByRole("button", { name: "添加课时" }).click();
  await expect(page.getByTestId("lessons").locator("li")).toHaveCount(1);
  await expect(page.getByTestId("lessons")).toContainText("第一课：导论");
  // Edited in place: a new title.
  await page.getByTestId("lessons").getByRole("button", { name: "编辑" }).click();
  await page.getByTestId("lessons").locator("input[name=lessonTitle]").fill("第一课：课程导论");
  await page.getByTestId("lessons").getByRole("button", { name: "保存" }).click();
  await expect(page.getByTestId("lessons")).toContainText("第一课：课程导论");

  await page.getByTestId("course-status").getByRole("button", { name: "发布" }).click();
  await expect(page.getByTestId("course-status")).toContainText("已发布");
  await capture(page, "creator-course-editor", timings);

  // Anyone sees it in the catalogue now, with its lesson and price.
  const data = await gql(
    `query($t: String!) { courses(filter: {titleContains: $t}) { nodes { title status price { amount } lessons { title freePreview } } } }`,
    { t: title },
  );
  expect(data.courses.nodes).toEqual([
    { title, status: "PUBLISHED", price: { amount: 4990 }, lessons: [{ title: "第一课：课程导论", freePreview: true }] },
  ]);
});

test("a creator lists the orders of their products", async ({ page }) => {
  const creator = token(CREATOR_USER);
  const timings = timeOperations(page);
  await signIn(page, creator, "/console/creator/orders?status=PAID");
  await expect(page.getByTestId("orders").locator("tbody tr").first()).toBeVisible();
  const sold = await gql(
    `query($c: ID!) { orders(filter: {creator: $c, status: PAID}) { totalCount } }`,
    { c: "Q3JlYXRvcjozNg==" },
    creator,
  );
  expect(sold.orders.totalCount).toBeGreaterThan(0);
  await expect(page.locator(".pager")).toContainText(`共 ${sold.orders.totalCount} 条`);
  // No export and no buyer filter: those are the admins'.
  await expect(page.getByRole("button", { name: "导出 CSV" })).toHaveCount(0);
  await expect(page.locator("input[name=buyer]")).toHaveCount(0);
  await page.getByTestId("orders").locator("tbody tr").first().getByRole("link").click();
  await expect(page).toHaveURL(/\/console\/creator\/orders\/[^/?]+$/);
  await expect(page.getByTestId("order-status")).toHaveText("已支付");
  await capture(page, "creator-orders", timings);
});
