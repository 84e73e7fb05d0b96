// The messaging outbox (admins): every message with its state, by status and kind;
// a failed one can be sent again. The outbox list pages forward only (the API's
// `notifications` connection), so "previous" goes back to the first page.
import { useState } from "react";
import { useMutation, useQuery } from "urql";
import { OutboxDocument, RetryNotificationDocument } from "../../gql/graphql";
import type { MessageKind, NotificationFilter, NotificationStatus } from "../../gql/graphql";
import { formatTime } from "../../lib/format";
import { useT } from "../../lib/i18n";
import { FIRST_PAGE, useUrlState } from "../../lib/url";
import { Badge, Field, FormErrors, PageHeader, QueryState, ForwardPager, type ApiUserError } from "../../ui/kit";

const PAGE_SIZE = 30;
const STATUSES: NotificationStatus[] = ["PENDING", "SENDING", "SENT", "FAILED", "SKIPPED"];
const KINDS: MessageKind[] = [
  "PAYMENT_SUCCEEDED",
  "REFUND_DONE",
  "LIVESTREAM_STARTING",
  "LIVESTREAM_LIVE",
  "NEW_LESSON",
  "MEMBERSHIP_ENDING",
  "POST_REPLY",
];
const TONE: Record<NotificationStatus, "good" | "warn" | "bad" | "plain"> = {
  SENT: "good",
  PENDING: "warn",
  SENDING: "warn",
  FAILED: "bad",
  SKIPPED: "plain",
};

export default function Outbox() {
  const t = useT();
  const [params, update] = useUrlState();
  const filter: NotificationFilter = {};
  const status = params.get("status");
  if (status && (STATUSES as string[]).includes(status)) filter.status = status as NotificationStatus;
  const kind = params.get("kind");
  if (kind && (KINDS as string[]).includes(kind)) filter.kind = kind as MessageKind;
  const [result] = useQuery({
    query: OutboxDocument,
    variables: { filter, first: PAGE_SIZE, after: params.get("after") },
  });
  const page = result.data?.notifications;
  return (
    <section>
      <PageHeader title={t("nav.outbox")} />
      <div className="filters">
        <Field label={t("orders.status")}>
          <select name="status" value={filter.status ?? ""} onChange={(e) => update({ status: e.target.value, ...FIRST_PAGE })}>
            <option value="">{t("app.all")}</option>
            {STATUSES.map((value) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t("outbox.kind")}>
          <select name="kind" value={filter.kind ?? ""} onChange={(e) => update({ kind: e.target.value, ...FIRST_PAGE })}>
            <option value="">{t("app.all")}</option>
            {KINDS.map((value) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <QueryState fetching={result.fetching} error={result.error} hasData={!!page} />
      {page && (
        <>
          <table className="list" data-testid="outbox">
            <thead>
              <tr>
                <th>{t("outbox.kind")}</th>
                <th>{t("outbox.recipient")}</th>
                <th>{t("outbox.channel")}</th>
                <th>{t("orders.status")}</th>
                <th className="number">{t("outbox.attempts")}</th>
                <th>{t("app.createdAt")}</th>
                <th>{t("outbox.lastError")}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {page.nodes.map((message) => (
                <tr key={message.id}>
                  <td>{message.kind}</td>
                  <td>{message.recipient?.nickname ?? "—"}</td>
                  <td>{message.channel ?? "—"}</td>
                  <td>
                    <Badge tone={TONE[message.status]}>{message.status}</Badge>
                  </td>
                  <td className="number">{message.attempts}</td>
                  <td>{formatTime(message.sentAt ?? message.createdAt)}</td>
                  <td className="text">{message.lastError ?? ""}</td>
                  <td>{message.status === "FAILED" && <RetryButton id={message.id} />}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {page.nodes.length === 0 && <p className="muted">{t("app.empty")}</p>}
          <ForwardPager pageInfo={page.pageInfo} totalCount={page.totalCount} />
        </>
      )}
    </section>
  );
}

function RetryButton(props: { id: string }) {
  const t = useT();
  const [errors, setErrors] = useState<readonly ApiUserError[]>([]);
  const [state, retry] = useMutation(RetryNotificationDocument);
  return (
    <span className="row-actions">
      <button
        type="button"
        disabled={state.fetching}
        onClick={async () =>
          setErrors((await retry({ notification: props.id })).data?.retryNotification.userErrors ?? [])
        }
      >
        {t("outbox.retry")}
      </button>
      <FormErrors errors={errors} />
    </span>
  );
}
