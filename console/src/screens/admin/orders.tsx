// Orders: every filter of the API, held in the address; keyset pages; each row opens
// the order. Admins see every order and export the same filter as CSV; a creator (at
// /creator/orders) sees what they sold, without the buyer and creator filters, which
// are the admins'.
import { useState, type FormEvent } from "react";
import { useQuery } from "urql";
import { Link, useLocation } from "wouter";
import { OrdersListDocument } from "../../gql/graphql";
import { authorizedFetch } from "../../lib/client";
import { formatTime } from "../../lib/format";
import { useT, type TextKey } from "../../lib/i18n";
import { session } from "../../lib/session";
import { FIRST_PAGE, pageArgs, useUrlState } from "../../lib/url";
import { Field, PageHeader, Pager, QueryState } from "../../ui/kit";
import { productName } from "../../ui/product";
import { StatusBadge } from "../../ui/status";
import { ORDER_STATUSES, PRODUCT_KINDS } from "../../lib/enums";
import { exportUrl, FILTER_PARAMS, orderFilter, orderSort, SORTS } from "./order-filter";

const PAGE_SIZE = 20;

/** Where this order list lives: the admins' `/orders` or a creator's `/creator/orders`. */
export function useOrdersBase(): string {
  const [location] = useLocation();
  return location.startsWith("/creator") ? "/creator/orders" : "/orders";
}

export default function Orders() {
  const t = useT();
  const base = useOrdersBase();
  const isAdmin = base === "/orders" && session()?.viewer.role === "ADMIN";
  const [params, update] = useUrlState();
  const { filter, problems } = orderFilter(params);
  // A creator's page lists their own sales, for admins with a creator profile too.
  if (base !== "/orders") filter.creator = session()?.viewer.creatorId ?? null;
  const valid = Object.keys(problems).length === 0;
  const [result] = useQuery({
    query: OrdersListDocument,
    variables: { filter, orderBy: orderSort(params), ...pageArgs(params, PAGE_SIZE) },
    pause: !valid,
  });
  const orders = result.data?.orders;
  const [exporting, setExporting] = useState(false);

  async function download() {
    setExporting(true);
    try {
      const response = await authorizedFetch(exportUrl(filter));
      if (!response.ok) return;
      const link = document.createElement("a");
      link.href = URL.createObjectURL(await response.blob());
      link.download = "orders.csv";
      link.click();
      URL.revokeObjectURL(link.href);
    } finally {
      setExporting(false);
    }
  }

  return (
    <section>
      <PageHeader title={t(isAdmin ? "orders.title" : "orders.sold")}>
        {isAdmin && (
          <button type="button" onClick={download} disabled={exporting || !valid}>
            {t("orders.export")}
          </button>
        )}
      </PageHeader>
      <OrderFilterForm
        key={FILTER_PARAMS.map((name) => params.get(name)).join("|")}
        admin={isAdmin}
        params={params}
        problems={problems}
        onApply={(values) => update({ ...values, ...FIRST_PAGE })}
      />
      <QueryState fetching={result.fetching} error={result.error} hasData={!!orders} />
      {orders && (
        <>
          <table className="list" data-testid="orders">
            <thead>
              <tr>
                <th>{t("orders.number")}</th>
                <th>{t("orders.product")}</th>
                <th>{t("orders.buyerName")}</th>
                <th className="number">{t("orders.amount")}</th>
                <th>{t("orders.status")}</th>
                <th>{t("orders.createdAt")}</th>
              </tr>
            </thead>
            <tbody>
              {orders.nodes.map((order) => (
                <tr key={order.id}>
                  <td>
                    <Link href={`${base}/${encodeURIComponent(order.id)}`}>{order.outTradeNo}</Link>
                  </td>
                  <td>{productName(order.product)}</td>
                  <td>{order.buyer.nickname ?? order.buyer.id}</td>
                  <td className="number">{order.amount.formatted}</td>
                  <td>
                    <StatusBadge status={order.status} />
                  </td>
                  <td>{formatTime(order.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {orders.nodes.length === 0 && <p className="muted">{t("app.empty")}</p>}
          <Pager pageInfo={orders.pageInfo} totalCount={orders.totalCount} onPage={update} />
        </>
      )}
    </section>
  );
}

/** The filter inputs, filled from the address and applied together. */
function OrderFilterForm(props: {
  admin: boolean;
  params: URLSearchParams;
  problems: ReturnType<typeof orderFilter>["problems"];
  onApply: (values: Record<string, string | null>) => void;
}) {
  const t = useT();
  const initial = Object.fromEntries(FILTER_PARAMS.map((name) => [name, props.params.get(name) ?? ""]));
  const [values, setValues] = useState<Record<string, string>>(initial);
  const set = (name: string) => (event: { target: { value: string } }) =>
    setValues((old) => ({ ...old, [name]: event.target.value }));
  const amountError = (name: "min" | "max") => (props.problems[name] ? t("orders.badAmount") : undefined);

  function apply(event: FormEvent) {
    event.preventDefault();
    props.onApply(values);
  }

  function reset() {
    const blank = Object.fromEntries(FILTER_PARAMS.map((name) => [name, ""]));
    setValues(blank);
    props.onApply(blank);
  }

  return (
    <form className="filters" onSubmit={apply}>
      <Field label={t("orders.status")}>
        <select name="status" value={values.status} onChange={set("status")}>
          <option value="">{t("app.all")}</option>
          {ORDER_STATUSES.map((status) => (
            <option key={status} value={status}>
              {t(`status.${status}`)}
            </option>
          ))}
        </select>
      </Field>
      <Field label={t("orders.kind")}>
        <select name="kind" value={values.kind} onChange={set("kind")}>
          <option value="">{t("app.all")}</option>
          {PRODUCT_KINDS.map((kind) => (
            <option key={kind} value={kind}>
              {t(`kind.${kind}`)}
            </option>
          ))}
        </select>
      </Field>
      <Field label={t("orders.from")}>
        <input type="date" name="from" value={values.from} onChange={set("from")} />
      </Field>
      <Field label={t("orders.to")}>
        <input type="date" name="to" value={values.to} onChange={set("to")} />
      </Field>
      <Field label={t("orders.minYuan")} error={amountError("min")}>
        <input name="min" inputMode="decimal" value={values.min} onChange={set("min")} />
      </Field>
      <Field label={t("orders.maxYuan")} error={amountError("max")}>
        <input name="max" inputMode="decimal" value={values.max} onChange={set("max")} />
      </Field>
      {props.admin && (
        <>
          <Field label={t("orders.buyer")}>
            <input name="buyer" value={values.buyer} onChange={set("buyer")} />
          </Field>
          <Field label={t("orders.creator")}>
            <input name="creator" value={values.creator} onChange={set("creator")} />
          </Field>
        </>
      )}
      <Field label={t("orders.coupon")}>
        <input name="coupon" value={values.coupon} onChange={set("coupon")} />
      </Field>
      <Field label={t("orders.sort")}>
        <select name="sort" value={values.sort || "NEWEST"} onChange={set("sort")}>
          {Object.keys(SORTS).map((sort) => (
            <option key={sort} value={sort}>
              {t(`orders.sort.${sort}` as TextKey)}
            </option>
          ))}
        </select>
      </Field>
      <div className="filter-actions">
        <button type="submit" className="primary">
          {t("app.apply")}
        </button>
        <button type="button" onClick={reset}>
          {t("app.reset")}
        </button>
      </div>
    </form>
  );
}
