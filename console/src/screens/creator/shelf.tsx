// The creator's bundles (专栏) and membership plans: each with its status and the
// action that puts it on sale or takes it off, and a form for a new one of each.
import { useMemo, useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import {
  CreateBundleDocument,
  CreateMembershipPlanDocument,
  MyShelfDocument,
  SetBundleStatusDocument,
  SetPlanStatusDocument,
  type CourseStatus,
} from "../../gql/graphql";
import { yuanToFen } from "../../lib/format";
import { useT } from "../../lib/i18n";
import { session } from "../../lib/session";
import { useUrlState } from "../../lib/url";
import { errorFor, Field, FormErrors, formErrors, PageHeader, Pager, QueryState, type ApiUserError } from "../../ui/kit";
import { CourseStatusBadge } from "../../ui/status";

export default function Shelf() {
  const t = useT();
  const [params, update] = useUrlState();
  const context = useMemo(() => ({ additionalTypenames: ["Bundle", "MembershipPlan"] }), []);
  const [result] = useQuery({
    query: MyShelfDocument,
    variables: { creator: session()?.viewer.creatorId ?? "", first: 20, after: params.get("after") },
    context,
  });
  const node = result.data?.node;
  const shelf = node && "bundles" in node ? node : null;
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
                {shelf.bundles.nodes.map((bundle) => (
                  <tr key={bundle.id}>
                    <td>
                      {bundle.title}
                      <div className="muted">{bundle.courses.map((course) => course.title).join("、")}</div>
                    </td>
                    <td className="number">{bundle.price.formatted}</td>
                    <td>
                      <StatusAction kind="bundle" id={bundle.id} status={bundle.status} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager pageInfo={shelf.bundles.pageInfo} totalCount={shelf.bundles.totalCount} onPage={update} />
            <NewBundleForm courses={shelf.courses.nodes} />
          </div>
          <div className="panel">
            <h2>{t("shelf.plans")}</h2>
            <table data-testid="plans">
              <tbody>
                {shelf.membershipPlans.nodes.map((plan) => (
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
                      <StatusAction kind="plan" id={plan.id} status={plan.status} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <NewPlanForm />
          </div>
        </div>
      )}
    </section>
  );
}

/** A status badge with the action that moves it: publish a draft or an archived one,
 * archive a published one. */
function StatusAction(props: { kind: "bundle" | "plan"; id: string; status: CourseStatus }) {
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
      <button type="button" onClick={move}>
        {next === "PUBLISHED" ? t("courses.publish") : t("courses.archive")}
      </button>
      <FormErrors errors={errors} />
    </span>
  );
}

function NewBundleForm(props: { courses: { id: string; title: string }[] }) {
  const t = useT();
  const [title, setTitle] = useState("");
  const [price, setPrice] = useState("");
  const [chosen, setChosen] = useState<string[]>([]);
  const [errors, setErrors] = useState<readonly ApiUserError[]>([]);
  const [state, create] = useMutation(CreateBundleDocument);
  async function submit(event: FormEvent) {
    event.preventDefault();
    const priceFen = yuanToFen(price);
    if (priceFen === null) return setErrors([{ field: ["priceFen"], message: t("orders.badAmount") }]);
    const result = await create({ input: { title, priceFen, courses: chosen } });
    setErrors(result.data?.createBundle.userErrors ?? []);
    if (result.data?.createBundle.bundle) {
      setTitle("");
      setPrice("");
      setChosen([]);
    }
  }
  return (
    <form className="form-grid" onSubmit={submit}>
      <h3 className="wide">{t("shelf.newBundle")}</h3>
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
          {props.courses.map((course) => (
            <option key={course.id} value={course.id}>
              {course.title}
            </option>
          ))}
        </select>
      </Field>
      <FormErrors errors={formErrors(errors, ["title", "priceFen", "courses"])} />
      <div className="filter-actions">
        <button type="submit" className="primary" disabled={state.fetching}>
          {t("courses.create")}
        </button>
      </div>
    </form>
  );
}

function NewPlanForm() {
  const t = useT();
  const [values, setValues] = useState({ name: "", months: "12", price: "", early: "", lapsed: "", groups: false });
  const [errors, setErrors] = useState<readonly ApiUserError[]>([]);
  const [state, create] = useMutation(CreateMembershipPlanDocument);
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
    const result = await create({
      input: {
        name: values.name,
        periodMonths: Number(values.months) || 0,
        priceFen,
        earlyRenewalPriceFen: early,
        lapsedRenewalPriceFen: lapsed,
        includesGroups: values.groups,
      },
    });
    setErrors(result.data?.createMembershipPlan.userErrors ?? []);
  }
  return (
    <form className="form-grid" onSubmit={submit}>
      <h3 className="wide">{t("shelf.newPlan")}</h3>
      <Field label={t("shelf.planName")} error={errorFor(errors, "name")}>
        <input name="planName" value={values.name} onChange={set("name")} />
      </Field>
      <Field label={t("shelf.period")} error={errorFor(errors, "periodMonths")}>
        <input name="planMonths" inputMode="numeric" value={values.months} onChange={set("months")} />
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
      <FormErrors
        errors={formErrors(errors, ["name", "periodMonths", "priceFen", "earlyRenewalPriceFen", "lapsedRenewalPriceFen"])}
      />
      <div className="filter-actions">
        <button type="submit" className="primary" disabled={state.fetching}>
          {t("courses.create")}
        </button>
      </div>
    </form>
  );
}
