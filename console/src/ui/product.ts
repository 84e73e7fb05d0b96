// A product's name whatever its kind (the `Product` union names it `title` or `name`).

/** The fields of a `Product` the console asks for. */
export type ProductLike =
  | { __typename: string; title?: string | null; name?: string | null }
  | null
  | undefined;

/** What to call a product in a list; a dash when the viewer may no longer see it. */
export function productName(product: ProductLike): string {
  if (!product) return "—";
  return ("title" in product && product.title) || ("name" in product && product.name) || product.__typename;
}
