// The API's enum values in the order the console lists them (the generated types name
// them; these are the values a select offers).
import type { OrderStatus, ProductKind } from "../gql/graphql";

/** Order states, in the order a person expects them. */
export const ORDER_STATUSES: OrderStatus[] = ["PENDING", "PAID", "REFUNDING", "REFUNDED", "CLOSED"];

/** Product kinds an order can be for. */
export const PRODUCT_KINDS: ProductKind[] = ["COURSE", "LIVESTREAM", "GROUP", "BUNDLE", "MEMBERSHIP", "QUESTION"];
