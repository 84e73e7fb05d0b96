// One of the creator's groups: its posts, newest first with the pinned ones on top;
// pin (at most three), mark as digest, remove with a reason, or mute the author; and
// its members beside them.
import { useMemo, useState } from "react";
import { useMutation, useQuery } from "urql";
import { Link, useParams } from "wouter";
import {
  GroupModerationDocument,
  MarkDigestDocument,
  MuteMemberDocument,
  PinPostDocument,
  RemovePostDocument,
  type GroupModerationQuery,
} from "../../gql/graphql";
import { formatTime } from "../../lib/format";
import { useT } from "../../lib/i18n";
import { pageArgs, useUrlState } from "../../lib/url";
import { Badge, FormErrors, PageHeader, Pager, QueryState, type ApiUserError } from "../../ui/kit";
import { GroupMembers } from "./group-members";
import { PostReplies } from "./post-replies";

const PAGE_SIZE = 20;

type Group = Extract<NonNullable<GroupModerationQuery["node"]>, { posts: unknown }>;
type Post = Group["posts"]["nodes"][number];

export default function GroupModeration() {
  const t = useT();
  const id = decodeURIComponent(useParams<{ id: string }>().id);
  const [params, update] = useUrlState();
  const context = useMemo(() => ({ additionalTypenames: ["GroupPost"] }), []);
  const [result] = useQuery({ query: GroupModerationDocument, variables: { id, ...pageArgs(params, PAGE_SIZE) }, context });
  const node = result.data?.node;
  const group = node && "posts" in node ? (node as Group) : null;
  return (
    <section>
      <PageHeader title={group?.name ?? t("nav.myGroups")}>
        <Link href="/creator/groups">{t("nav.myGroups")}</Link>
      </PageHeader>
      <QueryState fetching={result.fetching} error={result.error} hasData={!!group} />
      {group && (
        <div className="columns wide-first">
          <div>
            <div data-testid="posts">
              {group.posts.nodes.map((post) => (
                <PostCard key={post.id} groupId={group.id} post={post} />
              ))}
            </div>
            {group.posts.nodes.length === 0 && <p className="muted">{t("app.empty")}</p>}
            <Pager pageInfo={group.posts.pageInfo} totalCount={group.posts.totalCount} onPage={update} />
          </div>
          <GroupMembers groupId={group.id} />
        </div>
      )}
    </section>
  );
}

function PostCard(props: { groupId: string; post: Post }) {
  const t = useT();
  const { post } = props;
  const [errors, setErrors] = useState<readonly ApiUserError[]>([]);
  const [reason, setReason] = useState("");
  const [repliesOpen, setRepliesOpen] = useState(false);
  const [, pin] = useMutation(PinPostDocument);
  const [, digest] = useMutation(MarkDigestDocument);
  const [, remove] = useMutation(RemovePostDocument);
  const [, mute] = useMutation(MuteMemberDocument);
  return (
    <article className="panel" data-post={post.id}>
      <p className="muted">
        {post.author.nickname} · {formatTime(post.createdAt)} · ♥ {post.likeCount} · 💬 {post.replyCount}{" "}
        {post.pinned && <Badge tone="good">{t("groups.pinned")}</Badge>}{" "}
        {post.digest && <Badge tone="warn">{t("groups.digest")}</Badge>}
      </p>
      {post.title && <h3>{post.title}</h3>}
      <p className="text">{post.body}</p>
      <div className="row-actions">
        <button
          type="button"
          onClick={async () => setErrors((await pin({ post: post.id, pinned: !post.pinned })).data?.pinPost.userErrors ?? [])}
        >
          {post.pinned ? t("groups.unpin") : t("groups.pin")}
        </button>
        <button
          type="button"
          onClick={async () =>
            setErrors((await digest({ post: post.id, digest: !post.digest })).data?.markDigest.userErrors ?? [])
          }
        >
          {post.digest ? t("groups.undigest") : t("groups.markDigest")}
        </button>
        <input
          name="removeReason"
          placeholder={t("reports.removeReason")}
          value={reason}
          onChange={(event) => setReason(event.target.value)}
        />
        <button
          type="button"
          className="danger"
          onClick={async () => setErrors((await remove({ post: post.id, reason })).data?.removePost.userErrors ?? [])}
        >
          {t("reports.remove")}
        </button>
        <button
          type="button"
          className="danger"
          onClick={async () =>
            setErrors(
              (
                await mute({
                  group: props.groupId,
                  user: post.author.id,
                  // From a post, a mute lasts a week; the members list offers other lengths.
                  until: new Date(Date.now() + 7 * 86_400_000).toISOString(),
                  reason: reason || null,
                })
              ).data?.muteMember.userErrors ?? [],
            )
          }
        >
          {t("groups.muteWeek")}
        </button>
        <button type="button" onClick={() => setRepliesOpen(!repliesOpen)}>
          {t("groups.replies", { n: post.replyCount })}
        </button>
      </div>
      {repliesOpen && <PostReplies postId={post.id} />}
      <FormErrors errors={errors} />
    </article>
  );
}
