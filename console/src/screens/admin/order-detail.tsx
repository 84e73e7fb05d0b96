// One order: what was bought and paid, the discounts, the refunds (and, for admins, the
// payment notifications), and the refund action with its reason (admins, and the
// seller within the refund window: the API decides).
import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { Link, useParams } from "wouter";
import { OrderDetailDocument, RefundOrderDocument } from "../../gql/graphql";
import { formatTime } from "../../lib/format";
import { newIdempotencyKey } from "../../lib/keys";
import { useT } from "../../lib/i18n";
import { errorFor, Field, FormErrors, formErrors, PageHeader, QueryState, type ApiUserError } from "../../ui/kit";
import { productName } from "../../ui/product";
import { StatusBadge } from "../../ui/status";
import { useOrdersBase } from "./orders";

export default function OrderDetail() {
  const t = useT();
  const base = useOrdersBase();
  const id = decodeURIComponent(useParams<{ id: string }>().id);
  const [result] = useQuery({ query: OrderDetailDocument, variables: { id } });
  const order = result.data?.order;
  return (
    <section>
      <PageHeader title={t("orders.detail")}>
        <Link href={base}>{t("orders.back")}</Link>
      </PageHeader>
      <QueryState fetching={result.fetching} error={result.error} hasData={!!order} />
      {order && (
        <div className="columns">
          <div className="panel">
            <dl className="facts">
              <dt>{t("orders.number")}</dt>
              <dd>{order.outTradeNo}</dd>
              <dt>{t("orders.status")}</dt>
              <dd data-testid="order-status">
                <StatusBadge status={order.status} />
              </dd>
              <dt>{t("orders.product")}</dt>
              <dd>{productName(order.product)}</dd>
              <dt>{t("orders.buyerName")}</dt>
              <dd>{order.buyer.nickname ?? order.buyer.id}</dd>
              <dt>{t("orders.listPrice")}</dt>
              <dd>{order.listPrice.formatted}</dd>
              <dt>{t("orders.discounts")}</dt>
              <dd>
                {order.discounts.map((discount) => `${discount.label} −${discount.amount.formatted}`).join("，") ||
                  "—"}
              </dd>
              <dt>{t("orders.amount")}</dt>
              <dd>{order.amount.formatted}</dd>
              <dt>{t("orders.createdAt")}</dt>
              <dd>{formatTime(order.createdAt)}</dd>
              <dt>{t("orders.paidAt")}</dt>
              <dd>{formatTime(order.paidAt) || "—"}</dd>
              <dt>{t("orders.refundedAt")}</dt>
              <dd>{formatTime(order.refundedAt) || "—"}</dd>
            </dl>
          </div>
          <div className="panel">
            {order.status === "PAID" && <RefundForm orderId={order.id} />}
            <h2>{t("orders.refunds")}</h2>
            <table>
              <tbody>
                {order.refunds.map((refund) => (
                  <tr key={refund.outRefundNo}>
                    <td>{refund.outRefundNo}</td>
                    <td>{refund.amount.formatted}</td>
                    <td>{refund.status}</td>
                    <td>{refund.reason ?? ""}</td>
                    <td>{formatTime(refund.succeededAt ?? refund.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <h2>{t("orders.events")}</h2>
            <table>
              <tbody>
                {order.paymentEvents.map((event, index) => (
                  <tr key={index}>
                    <td>{event.eventType}</td>
                    <td>{formatTime(event.receivedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      )}
    </section>
  );
}

/** The refund action: a reason, then a full refund. One idempotency key per form, so
 * a double click or a retry after a network failure is the same refund. */
function RefundForm(props: { orderId: string }) {
  const t = useT();
  const [reason, setReason] = useState("");
  const [key] = useState(newIdempotencyKey);
  const [errors, setErrors] = useState<readonly ApiUserError[]>([]);
  const [state, refund] = useMutation(RefundOrderDocument);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const result = await refund({ input: { order: props.orderId, reason: reason || null, idempotencyKey: key } });
    setErrors(result.data?.refundOrder.userErrors ?? []);
  }

  return (
    <form onSubmit={submit} className="inline-form">
      <h2>{t("orders.refund")}</h2>
      <Field label={t("orders.refundReason")} error={errorFor(errors, "reason")} wide>
        <input name="reason" value={reason} onChange={(event) => setReason(event.target.value)} />
      </Field>
      <FormErrors errors={formErrors(errors, ["reason"])} />
      <button type="submit" className="danger" disabled={state.fetching}>
        {t("orders.refundSubmit")}
      </button>
    </form>
  );
}
