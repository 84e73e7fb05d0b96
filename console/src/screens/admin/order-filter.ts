// The order filter as the address holds it (`status`, `kind`, `from`, `to`, `min`, `max`,
// `buyer`, `creator`, `coupon`, and the ordering `sort`), turned into the API's
// `OrderFilter` and `OrderOrder` and into the CSV export's query parameters, so the
// export is exactly the list on screen.
import type { OrderFilter, OrderOrder, OrderStatus, ProductKind } from "../../gql/graphql";
import { ORDER_STATUSES, PRODUCT_KINDS } from "../../lib/enums";
import { addDays, shanghaiMidnight, yuanToFen } from "../../lib/format";


/** The address parameters of the filter. */
export const FILTER_PARAMS = ["status", "kind", "from", "to", "min", "max", "buyer", "creator", "coupon", "sort"] as const;

/** The orderings offered, as the address names them. */
export const SORTS: Record<string, OrderOrder> = {
  NEWEST: { field: "NEWEST", direction: "DESC" },
  OLDEST: { field: "NEWEST", direction: "ASC" },
  AMOUNT_DESC: { field: "AMOUNT", direction: "DESC" },
  AMOUNT_ASC: { field: "AMOUNT", direction: "ASC" },
};

/** The ordering the address asks for (newest first unless it names another). */
export function orderSort(params: URLSearchParams): OrderOrder {
  return SORTS[params.get("sort") ?? ""] ?? SORTS.NEWEST;
}

/** A filter parameter the person typed wrongly, by its name. */
export type FilterProblems = Partial<Record<(typeof FILTER_PARAMS)[number], "amount">>;

/** The API filter for the address, or the parameters that are not valid. */
export function orderFilter(params: URLSearchParams): { filter: OrderFilter; problems: FilterProblems } {
  const filter: OrderFilter = {};
  const problems: FilterProblems = {};
  const status = params.get("status");
  if (status && (ORDER_STATUSES as string[]).includes(status)) filter.status = status as OrderStatus;
  const kind = params.get("kind");
  if (kind && (PRODUCT_KINDS as string[]).includes(kind)) filter.productKind = kind as ProductKind;
  const from = params.get("from");
  if (from) filter.createdFrom = shanghaiMidnight(from);
  const to = params.get("to");
  if (to) filter.createdBefore = shanghaiMidnight(addDays(to, 1));
  for (const [param, field] of [
    ["min", "minAmountFen"],
    ["max", "maxAmountFen"],
  ] as const) {
    const text = params.get(param);
    if (!text) continue;
    const fen = yuanToFen(text);
    if (fen === null) problems[param] = "amount";
    else filter[field] = fen;
  }
  const buyer = params.get("buyer");
  if (buyer) filter.buyer = buyer;
  const creator = params.get("creator");
  if (creator) filter.creator = creator;
  const coupon = params.get("coupon");
  if (coupon) filter.coupon = coupon;
  return { filter, problems };
}

/** The CSV export address for the same filter. */
export function exportUrl(filter: OrderFilter): string {
  const query = new URLSearchParams();
  if (filter.status) query.set("status", filter.status);
  if (filter.productKind) query.set("productKind", filter.productKind);
  if (filter.createdFrom) query.set("createdFrom", filter.createdFrom);
  if (filter.createdBefore) query.set("createdBefore", filter.createdBefore);
  if (filter.minAmountFen != null) query.set("minAmountFen", String(filter.minAmountFen));
  if (filter.maxAmountFen != null) query.set("maxAmountFen", String(filter.maxAmountFen));
  if (filter.buyer) query.set("buyer", filter.buyer);
  if (filter.creator) query.set("creator", filter.creator);
  if (filter.coupon) query.set("coupon", filter.coupon);
  const text = query.toString();
  return text ? `/exports/orders.csv?${text}` : "/exports/orders.csv";
}
