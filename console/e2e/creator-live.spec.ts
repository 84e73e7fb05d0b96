// A creator runs a livestream from the console: schedule it, copy the push address, go
// live, and moderate the chat in real time (a learner's message arrives over the
// WebSocket subscription; deleting it strikes it through), then end it.
import { expect, test } from "@playwright/test";
import { capture, gql, signIn, timeOperations, token } from "./support";

const CREATOR_USER = 37;
const LEARNER_USER = 1500;

test("a creator goes live and moderates the chat as it happens", async ({ page }) => {
  const timings = timeOperations(page);
  await signIn(page, token(CREATOR_USER), "/console/creator/livestreams?new=1");
  const title = `E2E 直播 ${Date.now()}`;
  const form = page.getByTestId("schedule-livestream");
  await form.locator("input[name=title]").fill(title);
  const soon = new Date(Date.now() + 3600_000 + 8 * 3600_000).toISOString().slice(0, 16);
  await form.locator("input[name=start]").fill(soon);
  await form.locator("input[name=price]").fill("0");
  await form.getByRole("button", { name: "预告直播" }).click();
  await expect(page).toHaveURL(/\/console\/creator\/livestreams\/[^/?]+$/);
  await expect(page.getByTestId("push-url")).toContainText("rtmp://");

  // Still scheduled, its details change: a new title and a price.
  await page.getByTestId("live-status").getByRole("button", { name: "编辑" }).click();
  const edit = page.getByTestId("edit-livestream");
  await edit.locator("input[name=title]").fill(`${title}（加场）`);
  await edit.getByRole("button", { name: "保存" }).click();
  await expect(page.getByRole("heading", { name: `${title}（加场）` })).toBeVisible();

  await page.getByRole("button", { name: "开始直播" }).click();
  await expect(page.getByTestId("live-status")).toContainText("直播中");
  const id = decodeURIComponent(page.url().split("/livestreams/")[1]);
  const stored = await gql(`query($l: ID!) { node(id: $l) { ... on Livestream { title } } }`, { l: id });
  expect(stored.node.title).toBe(`${title}（加场）`);

  // A learner in the mini-program says something; the console shows it without reload.
  const learner = token(LEARNER_USER, "miniprogram");
  const sent = await gql(
    `mutation($l: ID!) { sendLivestreamMessage(input: {livestream: $l, body: "老师好！", clientMessageId: "e2e-1"}) { message { id } userErrors { code } } }`,
    { l: id },
    learner,
  );
  expect(sent.sendLivestreamMessage.userErrors).toEqual([]);
  const messageId = sent.sendLivestreamMessage.message.id;
  const message = page.locator(`[data-testid=chat] li[data-message="${messageId}"]`);
  await expect(message).toContainText("老师好！");
  await capture(page, "creator-livestream", timings);

  await message.getByRole("button", { name: "删除" }).click();
  await expect(message).toHaveClass(/deleted/);
  await expect(message).not.toContainText("老师好！");
  // The room's history no longer holds it.
  const after = await gql(
    `query($l: ID!) { node(id: $l) { ... on Livestream { messages(last: 5) { nodes { id } } } } }`,
    { l: id },
    token(CREATOR_USER),
  );
  expect(after.node.messages.nodes.map((m: { id: string }) => m.id)).not.toContain(messageId);

  await page.getByRole("button", { name: "结束直播" }).click();
  await expect(page.getByTestId("live-status")).toContainText("已结束");
});
