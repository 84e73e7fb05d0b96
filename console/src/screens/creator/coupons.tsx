// The creator's coupons: each with what is left, switched on or off; and the form for a
// new one (claimable, by code, or granted; a percentage or an amount off; for every
// product, one kind, or chosen products is left to the API's ALL and KIND scopes here).
import { useMemo, useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import {
  CreateCouponDocument,
  GrantCouponDocument,
  MyCouponsDocument,
  SetCouponDisabledDocument,
} from "../../gql/graphql";
import type { CouponDistribution, CreateCouponInput, ProductKind } from "../../gql/graphql";
import { formatTime, shanghaiLocalToInstant, yuanToFen } from "../../lib/format";
import { useT } from "../../lib/i18n";
import { useUrlState } from "../../lib/url";
import { Badge, errorFor, Field, FormErrors, formErrors, PageHeader, QueryState, ForwardPager, type ApiUserError } from "../../ui/kit";
import { PRODUCT_KINDS } from "../../lib/enums";

const PAGE_SIZE = 20;

export default function Coupons() {
  const t = useT();
  const [params, update] = useUrlState();
  const context = useMemo(() => ({ additionalTypenames: ["Coupon"] }), []);
  const [result] = useQuery({ query: MyCouponsDocument, variables: { first: PAGE_SIZE, after: params.get("after") }, context });
  const page = result.data?.coupons;
  const creating = params.get("new") === "1";
  return (
    <section>
      <PageHeader title={t("nav.coupons")}>
        <button type="button" className="primary" onClick={() => update({ new: creating ? null : "1" })}>
          {t("coupons.new")}
        </button>
      </PageHeader>
      {creating && <NewCouponForm />}
      <QueryState fetching={result.fetching} error={result.error} hasData={!!page} />
      {page && (
        <>
          <table className="list" data-testid="coupons">
            <thead>
              <tr>
                <th>{t("coupons.name")}</th>
                <th>{t("coupons.distribution")}</th>
                <th>{t("coupons.off")}</th>
                <th className="number">{t("coupons.minSpend")}</th>
                <th className="number">{t("coupons.remaining")}</th>
                <th>{t("coupons.valid")}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {page.nodes.map((coupon) => (
                <tr key={coupon.id}>
                  <td>
                    {coupon.name} {coupon.code && <code>{coupon.code}</code>}
                  </td>
                  <td>{t(`coupons.${coupon.distribution}`)}</td>
                  <td>{coupon.percentOff ? t("coupons.percentShow", { n: coupon.percentOff }) : coupon.amountOff?.formatted}</td>
                  <td className="number">{coupon.minSpend.formatted}</td>
                  <td className="number">
                    {coupon.remaining} / {coupon.totalQuantity}
                  </td>
                  <td>
                    {formatTime(coupon.startsAt)} – {formatTime(coupon.endsAt)}
                  </td>
                  <td>
                    <DisableToggle id={coupon.id} disabled={coupon.disabled} />
                    {coupon.distribution === "GRANT" && !coupon.disabled && <GrantForm id={coupon.id} />}
                  </td>
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

function DisableToggle(props: { id: string; disabled: boolean }) {
  const t = useT();
  const [errors, setErrors] = useState<readonly ApiUserError[]>([]);
  const [state, set] = useMutation(SetCouponDisabledDocument);
  return (
    <span className="row-actions">
      {props.disabled && <Badge tone="plain">{t("coupons.disabled")}</Badge>}
      <button
        type="button"
        disabled={state.fetching}
        onClick={async () =>
          setErrors((await set({ coupon: props.id, disabled: !props.disabled })).data?.updateCoupon.userErrors ?? [])
        }
      >
        {props.disabled ? t("coupons.enable") : t("coupons.disable")}
      </button>
      <FormErrors errors={errors} />
    </span>
  );
}

/** Hands a GRANT coupon out: to every follower, or to the buyers of one product (its
 * global ID). */
function GrantForm(props: { id: string }) {
  const t = useT();
  const [audience, setAudience] = useState<"FOLLOWERS" | "BUYERS">("FOLLOWERS");
  const [product, setProduct] = useState("");
  const [errors, setErrors] = useState<readonly ApiUserError[]>([]);
  const [granted, setGranted] = useState<number | null>(null);
  const [state, grant] = useMutation(GrantCouponDocument);
  async function submit() {
    const result = await grant({ coupon: props.id, audience, product: audience === "BUYERS" ? product : null });
    setErrors(result.data?.grantCoupon.userErrors ?? []);
    setGranted(result.data?.grantCoupon.granted ?? null);
  }
  return (
    <span className="row-actions" data-testid="grant">
      <select name="audience" value={audience} onChange={(e) => setAudience(e.target.value as "FOLLOWERS" | "BUYERS")}>
        <option value="FOLLOWERS">{t("coupons.toFollowers")}</option>
        <option value="BUYERS">{t("coupons.toBuyers")}</option>
      </select>
      {audience === "BUYERS" && (
        <input name="grantProduct" placeholder={t("coupons.productId")} value={product} onChange={(e) => setProduct(e.target.value)} />
      )}
      <button type="button" className="primary" disabled={state.fetching} onClick={submit}>
        {t("coupons.grant")}
      </button>
      {granted !== null && <span className="muted">{t("coupons.granted", { n: granted })}</span>}
      <FormErrors errors={errors} />
    </span>
  );
}

const FIELDS = ["name", "code", "distribution", "percentOff", "amountOffFen", "minSpendFen", "totalQuantity", "perUserLimit", "startsAt", "endsAt", "scopeKind", "scope"] as const;

function NewCouponForm() {
  const t = useT();
  const [values, setValues] = useState({
    name: "",
    distribution: "CLAIM" as CouponDistribution,
    code: "",
    offKind: "percent",
    off: "",
    minSpend: "",
    quantity: "100",
    perUser: "1",
    startsAt: "",
    endsAt: "",
    kind: "",
  });
  const [errors, setErrors] = useState<readonly ApiUserError[]>([]);
  const [done, setDone] = useState(false);
  const [state, create] = useMutation(CreateCouponDocument);
  const set = (name: keyof typeof values) => (event: { target: { value: string } }) => {
    setDone(false);
    setValues((old) => ({ ...old, [name]: event.target.value }));
  };

  async function submit(event: FormEvent) {
    event.preventDefault();
    const local: ApiUserError[] = [];
    const startsAt = shanghaiLocalToInstant(values.startsAt);
    const endsAt = shanghaiLocalToInstant(values.endsAt);
    if (!startsAt) local.push({ field: ["startsAt"], message: t("live.badStart"), code: "REQUIRED" });
    if (!endsAt) local.push({ field: ["endsAt"], message: t("live.badStart"), code: "REQUIRED" });
    const minSpendFen = yuanToFen(values.minSpend || "0");
    if (minSpendFen === null) local.push({ field: ["minSpendFen"], message: t("orders.badAmount") });
    const amountOffFen = values.offKind === "amount" ? yuanToFen(values.off) : null;
    if (values.offKind === "amount" && amountOffFen === null)
      local.push({ field: ["amountOffFen"], message: t("orders.badAmount") });
    if (local.length > 0 || !startsAt || !endsAt) return setErrors(local);
    const input: CreateCouponInput = {
      name: values.name,
      distribution: values.distribution,
      code: values.distribution === "CODE" ? values.code : null,
      percentOff: values.offKind === "percent" ? Number(values.off) || 0 : null,
      amountOffFen,
      minSpendFen: minSpendFen ?? 0,
      totalQuantity: Number(values.quantity) || 0,
      perUserLimit: Number(values.perUser) || 0,
      startsAt,
      endsAt,
      scope: values.kind ? "KIND" : "ALL",
      scopeKind: (values.kind || null) as ProductKind | null,
    };
    const result = await create({ input });
    const payload = result.data?.createCoupon;
    setErrors(payload?.userErrors ?? []);
    setDone(!!payload?.coupon);
  }

  return (
    <form className="panel form-grid" onSubmit={submit}>
      <Field label={t("coupons.name")} error={errorFor(errors, "name")}>
        <input name="name" value={values.name} onChange={set("name")} />
      </Field>
      <Field label={t("coupons.distribution")} error={errorFor(errors, "distribution")}>
        <select name="distribution" value={values.distribution} onChange={set("distribution")}>
          {(["CLAIM", "CODE", "GRANT"] as const).map((value) => (
            <option key={value} value={value}>
              {t(`coupons.${value}`)}
            </option>
          ))}
        </select>
      </Field>
      {values.distribution === "CODE" && (
        <Field label={t("coupons.code")} error={errorFor(errors, "code")}>
          <input name="code" value={values.code} onChange={set("code")} />
        </Field>
      )}
      <Field label={t("coupons.off")} error={errorFor(errors, values.offKind === "percent" ? "percentOff" : "amountOffFen")}>
        <span className="copy">
          <select name="offKind" value={values.offKind} onChange={set("offKind")}>
            <option value="percent">{t("coupons.percentOff")}</option>
            <option value="amount">{t("coupons.amountOff")}</option>
          </select>
          <input name="off" inputMode="decimal" value={values.off} onChange={set("off")} />
        </span>
      </Field>
      <Field label={t("coupons.minSpendYuan")} error={errorFor(errors, "minSpendFen")}>
        <input name="minSpend" inputMode="decimal" value={values.minSpend} onChange={set("minSpend")} />
      </Field>
      <Field label={t("coupons.quantity")} error={errorFor(errors, "totalQuantity")}>
        <input name="quantity" inputMode="numeric" value={values.quantity} onChange={set("quantity")} />
      </Field>
      <Field label={t("coupons.perUser")} error={errorFor(errors, "perUserLimit")}>
        <input name="perUser" inputMode="numeric" value={values.perUser} onChange={set("perUser")} />
      </Field>
      <Field label={t("coupons.kind")} error={errorFor(errors, "scopeKind") ?? errorFor(errors, "scope")}>
        <select name="kind" value={values.kind} onChange={set("kind")}>
          <option value="">{t("app.all")}</option>
          {PRODUCT_KINDS.filter((kind) => kind !== "QUESTION").map((kind) => (
            <option key={kind} value={kind}>
              {t(`kind.${kind}`)}
            </option>
          ))}
        </select>
      </Field>
      <Field label={t("coupons.startsAt")} error={errorFor(errors, "startsAt")}>
        <input type="datetime-local" name="startsAt" value={values.startsAt} onChange={set("startsAt")} />
      </Field>
      <Field label={t("coupons.endsAt")} error={errorFor(errors, "endsAt")}>
        <input type="datetime-local" name="endsAt" value={values.endsAt} onChange={set("endsAt")} />
      </Field>
      <FormErrors errors={formErrors(errors, FIELDS)} />
      <div className="filter-actions">
        <button type="submit" className="primary" disabled={state.fetching}>
          {t("courses.create")}
        </button>
        {done && <span className="muted">{t("app.done")}</span>}
      </div>
    </form>
  );
}
