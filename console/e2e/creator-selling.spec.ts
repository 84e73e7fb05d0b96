// A creator's selling tools and community from the console: a coupon, a membership
// plan put on sale, a group post pinned, and the earnings page; each effect checked
// through the public API.
import { expect, test } from "@playwright/test";
import { capture, gql, signIn, timeOperations, token } from "./support";

const CREATOR_USER = 37;
const CREATOR = "Q3JlYXRvcjozNg==";

test("a creator makes a coupon and a membership plan and puts the plan on sale", async ({ page }) => {
  const creator = token(CREATOR_USER);
  const timings = timeOperations(page);
  await signIn(page, creator, "/console/creator/coupons?new=1");
  const name = `E2E 券 ${Date.now() % 100000}`;
  await page.locator("input[name=name]").fill(name);
  await page.locator("input[name=off]").fill("20");
  const day = (offset: number) => new Date(Date.now() + offset * 86400_000).toISOString().slice(0, 10);
  await page.locator("input[name=startsAt]").fill(`${day(0)}T00:00`);
  await page.locator("input[name=endsAt]").fill(`${day(30)}T00:00`);
  await page.getByRole("button", { name: "创建" }).click();
  await expect(page.getByTestId("coupons")).toContainText(name);

  // A coupon to hand out: granted to every follower at once.
  const gift = `E2E 赠券 ${Date.now() % 100000}`;
  await page.locator("input[name=name]").fill(gift);
  await page.locator("select[name=distribution]").selectOption("GRANT");
  await page.locator("select[name=offKind]").selectOption("amount");
  await page.locator("input[name=off]").fill("10");
  await page.locator("input[name=quantity]").fill("5000");
  await page.getByRole("button", { name: "创建" }).click();
  const giftRow = page.getByTestId("coupons").locator("tr").filter({ hasText: gift });
  await giftRow.getByRole("button", { name: "发放" }).click();
  await expect(giftRow.getByText(/已发给 \d+ 人/)).toBeVisible();
  const granted = Number((await giftRow.getByText(/已发给/).innerText()).match(/\d+/)?.[0]);
  expect(granted).toBeGreaterThan(0);
  const mine = await gql(`{ coupons(first: 50) { nodes { name remaining totalQuantity } } }`, {}, creator);
  const stored = mine.coupons.nodes.find((c: { name: string }) => c.name === gift);
  expect(stored.totalQuantity - stored.remaining).toBe(granted);
  await capture(page, "creator-coupons", timings);

  await page.getByRole("link", { name: "专栏与会员" }).click();
  const plan = `E2E 会员 ${Date.now() % 100000}`;
  await page.locator("input[name=planName]").fill(plan);
  await page.locator("input[name=planPrice]").fill("199");
  await page.getByRole("button", { name: "创建" }).nth(1).click();
  const row = page.getByTestId("plans").locator("tr").filter({ hasText: plan });
  await expect(row).toContainText("草稿");
  await row.getByRole("button", { name: "发布" }).click();
  await expect(row).toContainText("已发布");
  // Its price changed in place.
  await row.getByRole("button", { name: "编辑" }).click();
  const editor = page.getByTestId("plans").locator("form");
  await editor.locator("input[name=planPrice]").fill("299");
  await editor.getByRole("button", { name: "保存" }).click();
  await expect(row).toContainText("¥299.00");
  await capture(page, "creator-shelf", timings);
  const listed = await gql(
    `query($c: ID!) { node(id: $c) { ... on Creator { membershipPlans { nodes { name price { amount } } } } } }`,
    { c: CREATOR },
  );
  expect(listed.node.membershipPlans.nodes).toContainEqual({ name: plan, price: { amount: 29900 } });
});

test("a creator pins a post in their group and reads their earnings", async ({ page }) => {
  const creator = token(CREATOR_USER);
  const timings = timeOperations(page);
  await signIn(page, creator, "/console/creator/groups");
  const group = page.getByTestId("my-groups").locator("tbody tr a").first();
  await group.click();
  const candidate = page.getByTestId("posts").locator("article").filter({ has: page.getByRole("button", { name: "设为精华" }) });
  const postId = await candidate.first().getAttribute("data-post");
  const post = page.locator(`article[data-post="${postId}"]`);
  await post.getByRole("button", { name: "设为精华" }).click();
  await expect(post.getByText("精华", { exact: true })).toBeVisible();
  await capture(page, "creator-group", timings);
  const groupId = decodeURIComponent(page.url().split("/groups/")[1]);
  const digests = await gql(
    `query($g: ID!) { node(id: $g) { ... on CommunityGroup { posts(first: 50, filter: {digest: true}) { totalCount } } } }`,
    { g: groupId },
    creator,
  );
  expect(digests.node.posts.totalCount).toBeGreaterThan(0);

  // A reply under a post is removed from the console.
  const discussed = page.getByTestId("posts").locator("article").filter({ has: page.getByRole("button", { name: /回复（[1-9]/ }) }).first();
  const discussedId = (await discussed.getAttribute("data-post")) ?? "";
  const replyCount = async () =>
    (await gql(`query($p: ID!) { node(id: $p) { ... on GroupPost { replyCount } } }`, { p: discussedId }, creator)).node.replyCount;
  const before = await replyCount();
  await discussed.getByRole("button", { name: /回复（/ }).click();
  const reply = discussed.getByTestId("replies").locator("li").first();
  await discussed.locator("input[name=replyReason]").fill("与主题无关");
  await reply.getByRole("button", { name: "删除" }).click();
  await expect.poll(replyCount).toBe(before - 1);

  // A member muted from the console can no longer post there.
  const member = page.getByTestId("members").locator("tr").first();
  const memberId = (await member.getAttribute("data-member")) ?? "";
  await member.locator("input[name=memberReason]").fill("刷屏广告");
  await member.getByRole("button", { name: "禁言", exact: true }).click();
  await expect(member.getByText("已禁言")).toBeVisible();
  const attempt = await gql(
    `mutation($g: ID!) { createPost(input: {group: $g, body: "再发一条广告"}) { post { id } userErrors { code } } }`,
    { g: groupId },
    token(memberId, "miniprogram"),
  );
  expect(attempt.createPost.userErrors[0].code).toBe("MUTED");
  await member.getByRole("button", { name: "解除禁言" }).click();
  await expect(member.getByText("已解除禁言")).toBeVisible();
  const allowed = await gql(
    `mutation($g: ID!) { createPost(input: {group: $g, body: "我错了，下次不发广告了"}) { post { id } userErrors { code } } }`,
    { g: groupId },
    token(memberId, "miniprogram"),
  );
  expect(allowed.createPost.userErrors).toEqual([]);

  await page.goto("/console/creator/earnings?month=2026-05");
  await page.locator("textarea[name=token]").fill(creator);
  await page.getByRole("button", { name: "登录" }).click();
  await expect(page.getByTestId("statement")).toContainText("¥");
  await expect(page.getByTestId("earnings")).toBeVisible();
  await capture(page, "creator-earnings", timings);
});
