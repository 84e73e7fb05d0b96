// Filter and page state lives in the address (`/orders?status=PAID&after=…`), so a link
// to a filtered page shows the same page to whoever opens it.
import { useLocation, useSearch } from "wouter";

/** The query parameters of the address, and a way to change some of them. */
export function useUrlState(): [URLSearchParams, (patch: Record<string, string | null>) => void] {
  const search = useSearch();
  const [location, navigate] = useLocation();
  const params = new URLSearchParams(search);
  const update = (patch: Record<string, string | null>) => {
    const next = new URLSearchParams(search);
    for (const [name, value] of Object.entries(patch)) {
      if (value === null || value === "") next.delete(name);
      else next.set(name, value);
    }
    const query = next.toString();
    navigate(query ? `${location}?${query}` : location);
  };
  return [params, update];
}

/** Pagination parameters for a connection from the address: forward with `after`,
 * backward with `before` (keyset cursors from the API). */
export function pageArgs(params: URLSearchParams, size: number) {
  const before = params.get("before");
  return before
    ? { last: size, before, first: null, after: null }
    : { first: size, after: params.get("after"), last: null, before: null };
}

/** Filters change the list: paging starts again from the first page. */
export const FIRST_PAGE = { after: null, before: null } as const;
