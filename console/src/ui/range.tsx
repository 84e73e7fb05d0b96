// The date range and granularity of a dashboard, held in the address (`from`, `to`,
// `by`); the default is the last 30 Shanghai days by day.
import { addDays, shanghaiDay } from "../lib/format";
import { useT } from "../lib/i18n";
import { useUrlState } from "../lib/url";
import { Field } from "./kit";

/** The buckets a dashboard can be drawn in. */
export type Granularity = "DAY" | "WEEK" | "MONTH";

/** The range the address asks for, with defaults. */
export function useRange() {
  const [params, update] = useUrlState();
  const today = shanghaiDay(new Date());
  const to = params.get("to") ?? today;
  const from = params.get("from") ?? addDays(to, -29);
  const by = params.get("by");
  const granularity: Granularity = by === "WEEK" || by === "MONTH" ? by : "DAY";
  return { from, to, granularity, update };
}

/** Inputs for the range and granularity. */
export function RangePicker() {
  const t = useT();
  const { from, to, granularity, update } = useRange();
  return (
    <div className="filters">
      <Field label={t("orders.from")}>
        <input type="date" name="from" value={from} onChange={(e) => update({ from: e.target.value })} />
      </Field>
      <Field label={t("orders.to")}>
        <input type="date" name="to" value={to} onChange={(e) => update({ to: e.target.value })} />
      </Field>
      <Field label={t("dash.granularity")}>
        <select name="by" value={granularity} onChange={(e) => update({ by: e.target.value })}>
          {(["DAY", "WEEK", "MONTH"] as const).map((value) => (
            <option key={value} value={value}>
              {t(`dash.${value}`)}
            </option>
          ))}
        </select>
      </Field>
    </div>
  );
}
