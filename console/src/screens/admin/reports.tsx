// Community reports (admins): open reports oldest first (or resolved ones); remove the
// post with a reason its author sees, or close the report and keep the post.
import { useMemo, useState } from "react";
import { useMutation, useQuery } from "urql";
import { PostReportsDocument, RemoveReportedPostDocument, ResolveReportDocument } from "../../gql/graphql";
import { formatTime } from "../../lib/format";
import { useT } from "../../lib/i18n";
import { FIRST_PAGE, pageArgs, useUrlState } from "../../lib/url";
import { Field, FormErrors, PageHeader, Pager, QueryState, type ApiUserError } from "../../ui/kit";

const PAGE_SIZE = 20;

export default function Reports() {
  const t = useT();
  const [params, update] = useUrlState();
  const open = params.get("open") !== "false";
  const context = useMemo(() => ({ additionalTypenames: ["PostReport", "GroupPost"] }), []);
  const [result] = useQuery({ query: PostReportsDocument, variables: { open, ...pageArgs(params, PAGE_SIZE) }, context });
  const reports = result.data?.postReports;
  return (
    <section>
      <PageHeader title={t("nav.reports")} />
      <nav className="tabs">
        <button type="button" className={open ? "active" : ""} onClick={() => update({ open: null, ...FIRST_PAGE })}>
          {t("reports.open")}
        </button>
        <button type="button" className={open ? "" : "active"} onClick={() => update({ open: "false", ...FIRST_PAGE })}>
          {t("reports.resolved")}
        </button>
      </nav>
      <QueryState fetching={result.fetching} error={result.error} hasData={!!reports} />
      {reports && (
        <>
          <div className="cards" data-testid="reports">
            {reports.nodes.map((report) => (
              <ReportCard key={report.id} report={report} />
            ))}
          </div>
          {reports.nodes.length === 0 && <p className="muted">{t("app.empty")}</p>}
          <Pager pageInfo={reports.pageInfo} totalCount={reports.totalCount} onPage={update} />
        </>
      )}
    </section>
  );
}

function ReportCard(props: {
  report: {
    id: string;
    reason: string;
    createdAt: string;
    resolvedAt?: string | null;
    postRemovedReason?: string | null;
    reporter: { nickname: string | null; id: string };
    post?: { id: string; title?: string | null; body?: string | null; author: { nickname: string | null }; group: { name: string } } | null;
  };
}) {
  const t = useT();
  const { report } = props;
  const [reason, setReason] = useState("");
  const [errors, setErrors] = useState<readonly ApiUserError[]>([]);
  const [resolving, resolve] = useMutation(ResolveReportDocument);
  const [removing, remove] = useMutation(RemoveReportedPostDocument);
  const busy = resolving.fetching || removing.fetching;
  const post = report.post;
  return (
    <article className="panel">
      <p className="muted">
        {report.reporter.nickname ?? report.reporter.id} · {formatTime(report.createdAt)} · {t("reports.reason")}：
        {report.reason}
      </p>
      {post ? (
        <blockquote>
          <strong>{post.group.name}</strong> · {post.author.nickname}
          <p>{post.title}</p>
          <p>{post.body}</p>
        </blockquote>
      ) : (
        <p className="muted">{report.postRemovedReason ? `${t("reports.removed")}：${report.postRemovedReason}` : "—"}</p>
      )}
      {!report.resolvedAt && post && (
        <div className="filters">
          <Field label={t("reports.removeReason")} error={errors.find((e) => e.field?.includes("reason"))}>
            <input name="removeReason" value={reason} onChange={(event) => setReason(event.target.value)} />
          </Field>
          <div className="filter-actions">
            <button
              type="button"
              className="danger"
              disabled={busy}
              onClick={async () => setErrors((await remove({ post: post.id, reason })).data?.removePost.userErrors ?? [])}
            >
              {t("reports.remove")}
            </button>
            <button
              type="button"
              disabled={busy}
              onClick={async () => setErrors((await resolve({ report: report.id })).data?.resolveReport.userErrors ?? [])}
            >
              {t("reports.keep")}
            </button>
          </div>
          <FormErrors errors={errors.filter((e) => !e.field?.includes("reason"))} />
        </div>
      )}
      {report.resolvedAt && <p className="muted">{t("reports.resolvedAt")} {formatTime(report.resolvedAt)}</p>}
    </article>
  );
}
