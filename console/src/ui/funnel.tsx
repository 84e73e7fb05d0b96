// A funnel drawn as bars, each step with its share of the first.
import { percent } from "../lib/format";

/** Steps of a funnel as bars, each with its share of the first step. */
export function Funnel(props: { steps: [string, number][] }) {
  const first = props.steps[0]?.[1] ?? 0;
  return (
    <ol className="funnel" data-testid="funnel">
      {props.steps.map(([label, value]) => (
        <li key={label}>
          <span className="label">{label}</span>
          <span className="bar" style={{ width: `${first ? Math.max(2, (value / first) * 100) : 2}%` }} />
          <strong>{value}</strong>
          <span className="muted">{first ? percent(value / first) : "—"}</span>
        </li>
      ))}
    </ol>
  );
}
