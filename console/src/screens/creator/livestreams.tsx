// The creator's livestreams: scheduled, live and past ones, newest first, and the form
// that announces a new one (its start typed in Shanghai time, its price in yuan).
import { useMemo, useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { Link, useLocation } from "wouter";
import { MyLivestreamsDocument, ScheduleLivestreamDocument, type LivestreamStatus } from "../../gql/graphql";
import { formatTime, shanghaiLocalToInstant, yuanToFen } from "../../lib/format";
import { useT } from "../../lib/i18n";
import { LiveBadge } from "../../ui/status";
import { session } from "../../lib/session";
import { FIRST_PAGE, pageArgs, useUrlState } from "../../lib/url";
import { errorFor, Field, FormErrors, formErrors, PageHeader, Pager, QueryState, type ApiUserError } from "../../ui/kit";

const PAGE_SIZE = 20;
const STATUSES: LivestreamStatus[] = ["SCHEDULED", "LIVE", "ENDED", "CANCELLED"];

export default function Livestreams() {
  const t = useT();
  const [params, update] = useUrlState();
  const asked = params.get("status");
  const status = asked && (STATUSES as string[]).includes(asked) ? [asked as LivestreamStatus] : null;
  const context = useMemo(() => ({ additionalTypenames: ["Livestream"] }), []);
  const [result] = useQuery({
    query: MyLivestreamsDocument,
    variables: { creator: session()?.viewer.creatorId ?? "", status, ...pageArgs(params, PAGE_SIZE) },
    context,
  });
  const page = result.data?.livestreams;
  const creating = params.get("new") === "1";
  return (
    <section>
      <PageHeader title={t("nav.myLivestreams")}>
        <button type="button" className="primary" onClick={() => update({ new: creating ? null : "1" })}>
          {t("live.schedule")}
        </button>
      </PageHeader>
      {creating && <ScheduleForm />}
      <nav className="tabs">
        <button type="button" className={status ? "" : "active"} onClick={() => update({ status: null, ...FIRST_PAGE })}>
          {t("app.all")}
        </button>
        {STATUSES.map((value) => (
          <button
            key={value}
            type="button"
            className={status?.[0] === value ? "active" : ""}
            onClick={() => update({ status: value, ...FIRST_PAGE })}
          >
            {t(`live.${value}`)}
          </button>
        ))}
      </nav>
      <QueryState fetching={result.fetching} error={result.error} hasData={!!page} />
      {page && (
        <>
          <table className="list" data-testid="my-livestreams">
            <thead>
              <tr>
                <th>{t("courses.name")}</th>
                <th>{t("live.start")}</th>
                <th className="number">{t("courses.priceYuan")}</th>
                <th className="number">{t("dash.peak")}</th>
                <th>{t("courses.status")}</th>
              </tr>
            </thead>
            <tbody>
              {page.nodes.map((live) => (
                <tr key={live.id}>
                  <td>
                    <Link href={`/creator/livestreams/${encodeURIComponent(live.id)}`}>{live.title}</Link>
                  </td>
                  <td>{formatTime(live.scheduledStart)}</td>
                  <td className="number">{live.price.formatted}</td>
                  <td className="number">{live.peakViewers}</td>
                  <td>
                    <LiveBadge status={live.status} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {page.nodes.length === 0 && <p className="muted">{t("app.empty")}</p>}
          <Pager pageInfo={page.pageInfo} totalCount={page.totalCount} onPage={update} />
        </>
      )}
    </section>
  );
}

const FIELDS = ["title", "description", "scheduledStart", "priceFen", "playUrl"] as const;

/** Announces a livestream. */
function ScheduleForm() {
  const t = useT();
  const [, navigate] = useLocation();
  const [values, setValues] = useState({ title: "", description: "", start: "", price: "", playUrl: "" });
  const [errors, setErrors] = useState<readonly ApiUserError[]>([]);
  const [state, schedule] = useMutation(ScheduleLivestreamDocument);
  const set = (name: keyof typeof values) => (event: { target: { value: string } }) =>
    setValues((old) => ({ ...old, [name]: event.target.value }));

  async function submit(event: FormEvent) {
    event.preventDefault();
    const scheduledStart = shanghaiLocalToInstant(values.start);
    const priceFen = yuanToFen(values.price || "0");
    const local: ApiUserError[] = [];
    if (!scheduledStart) local.push({ field: ["scheduledStart"], message: t("live.badStart"), code: "REQUIRED" });
    if (priceFen === null) local.push({ field: ["priceFen"], message: t("orders.badAmount") });
    if (!scheduledStart || priceFen === null) return setErrors(local);
    const result = await schedule({
      input: {
        title: values.title,
        description: values.description || null,
        scheduledStart,
        priceFen,
        playUrl: values.playUrl || null,
      },
    });
    const payload = result.data?.scheduleLivestream;
    setErrors(payload?.userErrors ?? []);
    if (payload?.livestream) navigate(`/creator/livestreams/${encodeURIComponent(payload.livestream.id)}`);
  }

  return (
    <form className="panel form-grid" onSubmit={submit} data-testid="schedule-livestream">
      <Field label={t("courses.name")} error={errorFor(errors, "title")} wide>
        <input name="title" value={values.title} onChange={set("title")} />
      </Field>
      <Field label={t("live.startShanghai")} error={errorFor(errors, "scheduledStart")}>
        <input type="datetime-local" name="start" value={values.start} onChange={set("start")} />
      </Field>
      <Field label={t("courses.priceYuan")} error={errorFor(errors, "priceFen")}>
        <input name="price" inputMode="decimal" value={values.price} onChange={set("price")} />
      </Field>
      <Field label={t("live.playUrl")} error={errorFor(errors, "playUrl")} wide>
        <input name="playUrl" value={values.playUrl} onChange={set("playUrl")} />
      </Field>
      <Field label={t("courses.description")} error={errorFor(errors, "description")} wide>
        <textarea name="description" rows={3} value={values.description} onChange={set("description")} />
      </Field>
      <FormErrors errors={formErrors(errors, FIELDS)} />
      <div className="filter-actions">
        <button type="submit" className="primary" disabled={state.fetching}>
          {t("live.schedule")}
        </button>
      </div>
    </form>
  );
}
