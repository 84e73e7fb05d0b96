// The replies under one group post, loaded when the moderator opens them, each
// removable with a reason its author is shown.
import { useMemo, useState } from "react";
import { useMutation, useQuery } from "urql";
import { PostRepliesDocument, RemoveReplyDocument } from "../../gql/graphql";
import { formatTime } from "../../lib/format";
import { useT } from "../../lib/i18n";
import { FormErrors, QueryState, type ApiUserError } from "../../ui/kit";

export function PostReplies(props: { postId: string }) {
  const t = useT();
  const context = useMemo(() => ({ additionalTypenames: ["GroupReply", "GroupPost"] }), []);
  const [result] = useQuery({ query: PostRepliesDocument, variables: { post: props.postId }, context });
  const node = result.data?.node;
  const replies = node && "replies" in node ? node.replies : null;
  const [reason, setReason] = useState("");
  const [errors, setErrors] = useState<readonly ApiUserError[]>([]);
  const [, remove] = useMutation(RemoveReplyDocument);
  return (
    <div className="replies" data-testid="replies">
      <QueryState fetching={result.fetching} error={result.error} hasData={!!replies} />
      {replies && (
        <>
          <input
            name="replyReason"
            placeholder={t("reports.removeReason")}
            value={reason}
            onChange={(event) => setReason(event.target.value)}
          />
          <ol>
            {replies.nodes.map((reply) => (
              <li key={reply.id} data-reply={reply.id}>
                <span className="muted">
                  {reply.author.nickname} · {formatTime(reply.createdAt)}
                </span>{" "}
                {reply.body}{" "}
                <button
                  type="button"
                  className="danger"
                  onClick={async () =>
                    setErrors(
                      (await remove({ reply: reply.id, reason: reason || null })).data?.removeReply.userErrors ?? [],
                    )
                  }
                >
                  {t("courses.deleteLesson")}
                </button>
              </li>
            ))}
          </ol>
          {replies.nodes.length === 0 && <p className="muted">{t("app.empty")}</p>}
          <FormErrors errors={errors} />
        </>
      )}
    </div>
  );
}
