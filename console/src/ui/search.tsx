// A filter bar with a text search: the text goes into the address as `q` when the form
// is submitted (paging starts again); the other filters, given as children, change the
// address themselves.
import { useState, type FormEvent, type ReactNode } from "react";
import { useT } from "../lib/i18n";
import { FIRST_PAGE, useUrlState } from "../lib/url";
import { Field } from "./kit";

export function SearchForm(props: { label: string; children?: ReactNode }) {
  const t = useT();
  const [params, update] = useUrlState();
  const [q, setQ] = useState(params.get("q") ?? "");
  function search(event: FormEvent) {
    event.preventDefault();
    update({ q, ...FIRST_PAGE });
  }
  return (
    <form className="filters" onSubmit={search}>
      <Field label={props.label}>
        <input name="q" value={q} onChange={(event) => setQ(event.target.value)} />
      </Field>
      {props.children}
      <div className="filter-actions">
        <button type="submit" className="primary">
          {t("app.apply")}
        </button>
      </div>
    </form>
  );
}
