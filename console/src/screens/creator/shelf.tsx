// The creator's bundles (专栏) and membership plans: each with its status, the action
// that puts it on sale or takes it off, and an edit in place; and a form for a new one
// of each. Creating and editing share one form per kind.
import { useMemo, useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import {
  CreateBundleDocument,
  CreateMembershipPlanDocument,
  MyShelfDocument,
  SetBundleStatusDocument,
  SetPlanStatusDocument,
  UpdateBundleDocument,
  UpdateMembershipPlanDocument,
  type CourseStatus,
  type MyShelfQuery,
} from "../../gql/graphql";
import { fenToYuan, yuanToFen } from "../../lib/format";
import { useT } from "../../lib/i18n";
import { session } from "../../lib/session";
import { useUrlState } from "../../lib/url";
import { errorFor, Field, FormErrors, formErrors, PageHeader, Pager, QueryState, type ApiUserError } from "../../ui/kit";
import { CourseStatusBadge } from "../../ui/status";

type Shelf = Extract<NonNullable<MyShelfQuery["node"]>, { bundles: unknown }>;
type Bundle = Shelf["bundles"]["nodes"][number];
type Plan = Shelf["membershipPlans"]["nodes"][number];

export default function ShelfScreen() {
  const t = useT();
  const [params, update] = useUrlState();
  const [editing, setEditing] = useState<string | null>(null);
  const context = useMemo(() => ({ additionalTypenames: ["Bundle", "MembershipPlan"] }), []);
  const [result] = useQuery({
    query: MyShelfDocument,
    variables: { creator: session()?.viewer.creatorId ?? "", first: 20, after: params.get("after") },
    context,
  });
  const node = result.data?.node;
  const shelf = node && "bundles" in node ? (node as Shelf) : null;
  const [, createBundle] = useMutation(CreateBundleDocument);
  const [, updateBundle] = useMutation(UpdateBundleDocument);
  const [, createPlan] = useMutation(CreateMembershipPlanDocument);
  const [, updatePlan] = useMutation(UpdateMembershipPlanDocument);
  return (
    <section>
      <PageHeader title={t("nav.shelf")} />
      <QueryState fetching={result.fetching} error={result.error} hasData={!!shelf} />
      {shelf && (
        <div className="columns">
          <div className="panel">
            <h2>{t("shelf.bundles")}</h2>
            <table data-testid="bundles">
              <tbody>
                {shelf.bundles.nodes.map((bundle) =>
                  editing === bundle.id ? (
                    <tr key={bundle.id}>
                      <td colSpan={3}>
                        <BundleForm
                          initial={bundle}
                          courses={shelf.courses.nodes}
                          submitLabel={t("app.save")}
                          onCancel={() => setEditing(null)}
                          onSubmit={async (values) => {
                            const payload = (await updateBundle({ input: { bundle: bundle.id, ...values } })).data?.updateBundle;
                            if (payload?.bundle) setEditing(null);
                            return payload?.userErrors ?? [];
                          }}
                        />
                      </td>
                    </tr>
                  ) : (
                    <tr key={bundle.id}>
                      <td>
                        {bundle.title}
                        <div className="muted">{bundle.courses.map((course) => course.title).join("、")}</div>
                      </td>
                      <td className="number">{bundle.price.formatted}</td>
                      <td>
                        <StatusAction kind="bundle" id={bundle.id} status={bundle.status} onEdit={() => setEditing(bundle.id)} />
                      </td>
                    </tr>
                  ),
                )}
              </tbody>
            </table>
            <Pager pageInfo={shelf.bundles.pageInfo} totalCount={shelf.bundles.totalCount} onPage={update} />
            <h3>{t("shelf.newBundle")}</h3>
            <BundleForm
              courses={shelf.courses.nodes}
              submitLabel={t("courses.create")}
              onSubmit={async (values) => (await createBundle({ input: values })).data?.createBundle.userErrors ?? []}
            />
          </div>
          <div className="panel">
            <h2>{t("shelf.plans")}</h2>
            <table data-testid="plans">
              <tbody>
                {shelf.membershipPlans.nodes.map((plan) =>
                  editing === plan.id ? (
                    <tr key={plan.id}>
                      <td colSpan={3}>
                        <PlanForm
                          initial={plan}
                          submitLabel={t("app.save")}
                          onCancel={() => setEditing(null)}
                          onSubmit={async ({ periodMonths: _fixed, ...values }) => {
                            const payload = (await updatePlan({ input: { plan: plan.id, ...values } })).data
                              ?.updateMembershipPlan;
                            if (payload?.plan) setEditing(null);
                            return payload?.userErrors ?? [];
                          }}
                        />
                      </td>
                    </tr>
                  ) : (
                    <tr key={plan.id}>
                      <td>
                        {plan.name}
                        <div className="muted">
                          {t("shelf.months", { n: plan.periodMonths })}
                          {plan.includesGroups && ` · ${t("shelf.withGroups")}`}
                          {plan.earlyRenewalPrice && ` · ${t("shelf.early")} ${plan.earlyRenewalPrice.formatted}`}
                          {plan.lapsedRenewalPrice && ` · ${t("shelf.lapsed")} ${plan.lapsedRenewalPrice.formatted}`}
                        </div>
                      </td>
                      <td className="number">{plan.price.formatted}</td>
                      <td>
                        <StatusAction kind="plan" id={plan.id} status={plan.status} onEdit={() => setEditing(plan.id)} />
                      </td>
                    </tr>
                  ),
                )}
              </tbody>
            </table>
            <h3>{t("shelf.newPlan")}</h3>
            <PlanForm
              submitLabel={t("courses.create")}
              onSubmit={async (values) =>
                (await createPlan({ input: values })).data?.createMembershipPlan.userErrors ?? []
              }
            />
          </div>
        </div>
      )}
    </section>
  );
}

/** A status badge with its actions: edit, and publish a draft or an archived one or
 * archive a published one. */
function StatusAction(props: { kind: "bundle" | "plan"; id: string; status: CourseStatus; onEdit: () => void }) {
  const t = useT();
  const [errors, setErrors] = useState<readonly ApiUserError[]>([]);
  const [, setBundle] = useMutation(SetBundleStatusDocument);
  const [, setPlan] = useMutation(SetPlanStatusDocument);
  const next: CourseStatus = props.status === "PUBLISHED" ? "ARCHIVED" : "PUBLISHED";
  async function move() {
    const result =
      props.kind === "bundle"
        ? (await setBundle({ bundle: props.id, status: next })).data?.updateBundle
        : (await setPlan({ plan: props.id, status: next })).data?.updateMembershipPlan;
    setErrors(result?.userErrors ?? []);
  }
  return (
    <span className="row-actions">
      <CourseStatusBadge status={props.status} />
      <button type="button" onClick={props.onEdit}>
        {t("courses.editLesson")}
      </button>
      <button type="button" onClick={move}>
        {next === "PUBLISHED" ? t("courses.publish") : t("courses.archive")}
      </button>
      <FormErrors errors={errors} />
    </span>
  );
}

/** What the bundle form submits. */
interface BundleValues {
  title: string;
  priceFen: number;
  courses: string[];
  includesFuture: boolean;
  creditOwned: boolean;
}

/** A bundle's fields; `onSubmit` answers with the API's userErrors. */
function BundleForm(props: {
  initial?: Bundle;
  courses: { id: string; title: string }[];
  submitLabel: string;
  onSubmit: (values: BundleValues) => Promise<readonly ApiUserError[]>;
  onCancel?: () => void;
}) {
  const t = useT();
  const { initial } = props;
  const [title, setTitle] = useState(initial?.title ?? "");
  const [price, setPrice] = useState(initial ? fenToYuan(initial.price.amount) : "");
  const [chosen, setChosen] = useState<string[]>(initial?.courses.map((course) => course.id) ?? []);
  const [includesFuture, setIncludesFuture] = useState(initial?.includesFuture ?? false);
  const [creditOwned, setCreditOwned] = useState(initial?.creditOwned ?? true);
  const [errors, setErrors] = useState<readonly ApiUserError[]>([]);
  // The bundle's own courses stay listed even when they are no longer on sale.
  const options = [...(initial?.courses ?? []), ...props.courses.filter((c) => !initial?.courses.some((o) => o.id === c.id))];
  async function submit(event: FormEvent) {
    event.preventDefault();
    const priceFen = yuanToFen(price);
    if (priceFen === null) return setErrors([{ field: ["priceFen"], message: t("orders.badAmount") }]);
    const refused = await props.onSubmit({ title, priceFen, courses: chosen, includesFuture, creditOwned });
    setErrors(refused);
    if (refused.length === 0 && !initial) {
      setTitle("");
      setPrice("");
      setChosen([]);
    }
  }
  return (
    <form className="form-grid" onSubmit={submit}>
      <Field label={t("courses.name")} error={errorFor(errors, "title")}>
        <input name="bundleTitle" value={title} onChange={(event) => setTitle(event.target.value)} />
      </Field>
      <Field label={t("courses.priceYuan")} error={errorFor(errors, "priceFen")}>
        <input name="bundlePrice" inputMode="decimal" value={price} onChange={(event) => setPrice(event.target.value)} />
      </Field>
      <Field label={t("shelf.courses")} error={errorFor(errors, "courses")} wide>
        <select
          name="bundleCourses"
          multiple
          size={5}
          value={chosen}
          onChange={(event) => setChosen(Array.from(event.target.selectedOptions, (option) => option.value))}
        >
          {options.map((course) => (
            <option key={course.id} value={course.id}>
              {course.title}
            </option>
          ))}
        </select>
      </Field>
      <label className="check">
        <input type="checkbox" checked={includesFuture} onChange={(e) => setIncludesFuture(e.target.checked)} />
        {t("shelf.includesFuture")}
      </label>
      <label className="check">
        <input type="checkbox" checked={creditOwned} onChange={(e) => setCreditOwned(e.target.checked)} />
        {t("shelf.creditOwned")}
      </label>
      <FormErrors errors={formErrors(errors, ["title", "priceFen", "courses"])} />
      <div className="filter-actions">
        <button type="submit" className="primary">
          {props.submitLabel}
        </button>
        {props.onCancel && (
          <button type="button" onClick={props.onCancel}>
            {t("app.cancel")}
          </button>
        )}
      </div>
    </form>
  );
}

/** What the plan form submits. */
interface PlanValues {
  name: string;
  periodMonths: number;
  priceFen: number;
  earlyRenewalPriceFen: number | null;
  lapsedRenewalPriceFen: number | null;
  includesGroups: boolean;
}

const PLAN_FIELDS = ["name", "periodMonths", "priceFen", "earlyRenewalPriceFen", "lapsedRenewalPriceFen"];

/** A membership plan's fields (the period is fixed once made); `onSubmit` answers with
 * the API's userErrors. */
function PlanForm(props: {
  initial?: Plan;
  submitLabel: string;
  onSubmit: (values: PlanValues) => Promise<readonly ApiUserError[]>;
  onCancel?: () => void;
}) {
  const t = useT();
  const { initial } = props;
  const yuan = (money?: { amount: number } | null) => (money ? fenToYuan(money.amount) : "");
  const [values, setValues] = useState({
    name: initial?.name ?? "",
    months: String(initial?.periodMonths ?? 12),
    price: yuan(initial?.price),
    early: yuan(initial?.earlyRenewalPrice),
    lapsed: yuan(initial?.lapsedRenewalPrice),
    groups: initial?.includesGroups ?? false,
  });
  const [errors, setErrors] = useState<readonly ApiUserError[]>([]);
  const set = (name: "name" | "months" | "price" | "early" | "lapsed") => (event: { target: { value: string } }) =>
    setValues((old) => ({ ...old, [name]: event.target.value }));
  async function submit(event: FormEvent) {
    event.preventDefault();
    const priceFen = yuanToFen(values.price);
    const early = values.early ? yuanToFen(values.early) : null;
    const lapsed = values.lapsed ? yuanToFen(values.lapsed) : null;
    const local: ApiUserError[] = [];
    if (priceFen === null) local.push({ field: ["priceFen"], message: t("orders.badAmount") });
    if (values.early && early === null) local.push({ field: ["earlyRenewalPriceFen"], message: t("orders.badAmount") });
    if (values.lapsed && lapsed === null) local.push({ field: ["lapsedRenewalPriceFen"], message: t("orders.badAmount") });
    if (local.length > 0 || priceFen === null) return setErrors(local);
    setErrors(
      await props.onSubmit({
        name: values.name,
        periodMonths: Number(values.months) || 0,
        priceFen,
        earlyRenewalPriceFen: early,
        lapsedRenewalPriceFen: lapsed,
        includesGroups: values.groups,
      }),
    );
  }
  return (
    <form className="form-grid" onSubmit={submit}>
      <Field label={t("shelf.planName")} error={errorFor(errors, "name")}>
        <input name="planName" value={values.name} onChange={set("name")} />
      </Field>
      <Field label={t("shelf.period")} error={errorFor(errors, "periodMonths")}>
        <input name="planMonths" inputMode="numeric" value={values.months} onChange={set("months")} disabled={!!initial} />
      </Field>
      <Field label={t("courses.priceYuan")} error={errorFor(errors, "priceFen")}>
        <input name="planPrice" inputMode="decimal" value={values.price} onChange={set("price")} />
      </Field>
      <Field label={t("shelf.earlyYuan")} error={errorFor(errors, "earlyRenewalPriceFen")}>
        <input name="planEarly" inputMode="decimal" value={values.early} onChange={set("early")} />
      </Field>
      <Field label={t("shelf.lapsedYuan")} error={errorFor(errors, "lapsedRenewalPriceFen")}>
        <input name="planLapsed" inputMode="decimal" value={values.lapsed} onChange={set("lapsed")} />
      </Field>
      <label className="check">
        <input
          type="checkbox"
          name="planGroups"
          checked={values.groups}
          onChange={(event) => setValues((old) => ({ ...old, groups: event.target.checked }))}
        />
        {t("shelf.withGroups")}
      </label>
      <FormErrors errors={formErrors(errors, PLAN_FIELDS)} />
      <div className="filter-actions">
        <button type="submit" className="primary">
          {props.submitLabel}
        </button>
        {props.onCancel && (
          <button type="button" onClick={props.onCancel}>
            {t("app.cancel")}
          </button>
        )}
      </div>
    </form>
  );
}
