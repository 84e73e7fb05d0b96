// A product's name whatever its kind (the `Product` union names it `title` or `name`;
// a paid question is named by the start of its question). The fields come from the
// ProductName fragment (product.graphql).
import type { ProductNameFragment } from "../gql/graphql";

/** What to call a product in a list; a dash when the viewer may no longer see it. */
export function productName(product: ProductNameFragment | null | undefined): string {
  if (!product) return "—";
  if ("title" in product && product.title) return product.title;
  if ("name" in product && product.name) return product.name;
  if ("body" in product && product.body) {
    const excerpt = product.body.length > 24 ? `${product.body.slice(0, 24)}…` : product.body;
    return `「${excerpt}」`;
  }
  return product.__typename ?? "—";
}
