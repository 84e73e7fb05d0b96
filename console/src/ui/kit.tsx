// The console's small design system: form fields that show the API's userErrors beside
// them, the pager for keyset connections, states for loading and failure, badges and
// figure cards. Styles are in console.css.
import type { ReactNode } from "react";
import type { CombinedError } from "urql";
import { useErrorText, useT } from "../lib/i18n";
import { useUrlState } from "../lib/url";

/** A userError as the API returns it. */
export interface ApiUserError {
  field?: readonly string[] | null;
  message: string;
  code?: string;
}

/** The first error naming `field` (the last element of its path). */
export function errorFor(errors: readonly ApiUserError[] | undefined, field: string): ApiUserError | undefined {
  return errors?.find((error) => error.field?.[error.field.length - 1] === field);
}

/** Errors that name no field of the form (shown above its buttons). */
export function formErrors(errors: readonly ApiUserError[] | undefined, fields: readonly string[]): ApiUserError[] {
  return (errors ?? []).filter((error) => !fields.includes(error.field?.[error.field.length - 1] ?? ""));
}

/** One error in the UI's language, the API's own words as its tooltip. */
export function ErrorText(props: { error: ApiUserError | string }) {
  const text = useErrorText();
  const error = typeof props.error === "string" ? { message: props.error } : props.error;
  return (
    <span className="field-error" role="alert" title={error.message} data-code={error.code}>
      {text(error)}
    </span>
  );
}

/** A labelled control with its error underneath. */
export function Field(props: { label: string; error?: ApiUserError | string; children: ReactNode; wide?: boolean }) {
  return (
    <label className={`field${props.wide ? " wide" : ""}${props.error ? " invalid" : ""}`}>
      <span className="label">{props.label}</span>
      {props.children}
      {props.error && <ErrorText error={props.error} />}
    </label>
  );
}

/** Errors of a form, or of a row's action, that belong to no single field. */
export function FormErrors(props: { errors: readonly (ApiUserError | string)[] }) {
  if (props.errors.length === 0) return null;
  return (
    <div className="form-errors">
      {props.errors.map((error, index) => (
        <ErrorText key={index} error={error} />
      ))}
    </div>
  );
}

/** While a query loads, or when it failed (never the server's internals: the API
 * sends only safe messages). */
export function QueryState(props: { fetching: boolean; error?: CombinedError; hasData: boolean }) {
  const t = useT();
  if (props.error && !props.hasData) {
    return (
      <div className="error-box" role="alert">
        {t("app.error")}: {props.error.graphQLErrors[0]?.message ?? props.error.message}
      </div>
    );
  }
  if (props.fetching && !props.hasData) return <div className="loading">{t("app.loading")}</div>;
  return null;
}

/** Relay page information. */
export interface PageInfoLike {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor?: string | null;
  endCursor?: string | null;
}

/** Previous/next for a keyset connection; the cursors go into the address. The API
 * sets `hasPreviousPage` after a forward cursor and `hasNextPage` after a backward one. */
export function Pager(props: {
  pageInfo: PageInfoLike;
  totalCount?: number;
  onPage: (patch: { after: string | null; before: string | null }) => void;
}) {
  const t = useT();
  const { pageInfo } = props;
  return (
    <nav className="pager" aria-label="pages">
      {props.totalCount !== undefined && <span className="muted">{t("app.total", { n: props.totalCount })}</span>}
      <button
        type="button"
        disabled={!pageInfo.hasPreviousPage}
        onClick={() => props.onPage({ after: null, before: pageInfo.startCursor ?? null })}
      >
        {t("app.prev")}
      </button>
      <button
        type="button"
        disabled={!pageInfo.hasNextPage}
        onClick={() => props.onPage({ after: pageInfo.endCursor ?? null, before: null })}
      >
        {t("app.next")}
      </button>
    </nav>
  );
}

/** A coloured word for a state. */
export function Badge(props: { tone: "good" | "warn" | "bad" | "plain"; children: ReactNode }) {
  return <span className={`badge ${props.tone}`}>{props.children}</span>;
}

/** A headline figure. */
export function Figure(props: { label: string; value: ReactNode; testId?: string }) {
  return (
    <div className="figure" data-testid={props.testId}>
      <span className="label">{props.label}</span>
      <strong>{props.value}</strong>
    </div>
  );
}

/** A page's title row with actions on the right. */
export function PageHeader(props: { title: string; children?: ReactNode }) {
  return (
    <header className="page-header">
      <h1>{props.title}</h1>
      <div className="actions">{props.children}</div>
    </header>
  );
}

/** First page and next for a list the API pages forward only; the cursor goes into the
 * address as `param` (`after` unless the page holds two such lists). */
export function ForwardPager(props: {
  pageInfo: { hasNextPage: boolean; endCursor?: string | null };
  totalCount?: number;
  param?: string;
}) {
  const t = useT();
  const [params, update] = useUrlState();
  const param = props.param ?? "after";
  return (
    <nav className="pager">
      {props.totalCount !== undefined && <span className="muted">{t("app.total", { n: props.totalCount })}</span>}
      <button type="button" disabled={!params.get(param)} onClick={() => update({ [param]: null })}>
        {t("app.first")}
      </button>
      <button
        type="button"
        disabled={!props.pageInfo.hasNextPage}
        onClick={() => update({ [param]: props.pageInfo.endCursor ?? null })}
      >
        {t("app.next")}
      </button>
    </nav>
  );
}
