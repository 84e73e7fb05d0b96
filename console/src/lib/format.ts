// Times shown in Asia/Shanghai whatever the browser's zone (the platform's day), and
// yuan typed by people turned into integer fen without floating point.

const ZONE = "Asia/Shanghai";

const timeFormat = new Intl.DateTimeFormat("zh-CN", {
  timeZone: ZONE,
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  hour12: false,
});

const dayFormat = new Intl.DateTimeFormat("en-CA", {
  timeZone: ZONE,
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
});

/** An RFC 3339 instant as `2026/12/04 18:30` in Shanghai; blank for none. */
export function formatTime(instant: string | null | undefined): string {
  return instant ? timeFormat.format(new Date(instant)) : "";
}

/** The Shanghai calendar day of an instant, `YYYY-MM-DD`. */
export function shanghaiDay(instant: Date): string {
  return dayFormat.format(instant);
}

/** `day` moved by `days` calendar days (`YYYY-MM-DD` in, out). */
export function addDays(day: string, days: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

/** The first instant of a Shanghai day, as RFC 3339 (for `createdFrom`/`createdBefore`). */
export function shanghaiMidnight(day: string): string {
  return `${day}T00:00:00+08:00`;
}

/** `"12.5"` yuan as 1250 fen; null when it is not an amount with at most two decimals. */
export function yuanToFen(text: string): number | null {
  const match = /^\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$/.exec(text);
  if (!match) return null;
  const fraction = (match[2] ?? "").padEnd(2, "0");
  return Number(match[1]) * 100 + Number(fraction);
}

/** Fen as a yuan string for an input (`1250` → `"12.50"`). */
export function fenToYuan(fen: number): string {
  return `${Math.trunc(fen / 100)}.${String(Math.abs(fen % 100)).padStart(2, "0")}`;
}

/** A ratio as a percentage with one decimal; a dash when there is none. */
export function percent(ratio: number | null | undefined): string {
  return ratio === null || ratio === undefined ? "—" : `${(ratio * 100).toFixed(1)}%`;
}

/** A `datetime-local` value typed as Shanghai time, as RFC 3339 (`…T20:00:00+08:00`);
 * null when blank or malformed. */
export function shanghaiLocalToInstant(value: string): string | null {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value) ? `${value}:00+08:00` : null;
}

const localFormat = new Intl.DateTimeFormat("en-CA", {
  timeZone: ZONE,
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});

/** An instant as a `datetime-local` value in Shanghai time (`2026-12-05T20:00`). */
export function instantToShanghaiLocal(instant: string): string {
  const part = (type: string) => localFormat.formatToParts(new Date(instant)).find((p) => p.type === type)?.value ?? "";
  return `${part("year")}-${part("month")}-${part("day")}T${part("hour")}:${part("minute")}`;
}
