// Order and course states as coloured badges.
import type { CourseStatus, LivestreamStatus, OrderStatus } from "../gql/graphql";
import { useT } from "../lib/i18n";
import { Badge } from "./kit";

const ORDER_TONES: Record<OrderStatus, "good" | "warn" | "bad" | "plain"> = {
  PAID: "good",
  PENDING: "warn",
  REFUNDING: "warn",
  REFUNDED: "bad",
  CLOSED: "plain",
};

/** An order's status. */
export function StatusBadge(props: { status: OrderStatus }) {
  const t = useT();
  return (
    <Badge tone={ORDER_TONES[props.status]}>
      <span data-status={props.status}>{t(`status.${props.status}`)}</span>
    </Badge>
  );
}

const COURSE_TONES: Record<CourseStatus, "good" | "warn" | "bad" | "plain"> = {
  PUBLISHED: "good",
  DRAFT: "warn",
  ARCHIVED: "plain",
};

/** A course's status. */
export function CourseStatusBadge(props: { status: CourseStatus }) {
  const t = useT();
  return (
    <Badge tone={COURSE_TONES[props.status]}>
      <span data-status={props.status}>{t(`courseStatus.${props.status}`)}</span>
    </Badge>
  );
}

/** A livestream's status as a badge. */
export function LiveBadge(props: { status: LivestreamStatus }) {
  const t = useT();
  const tone = props.status === "LIVE" ? "good" : props.status === "SCHEDULED" ? "warn" : "plain";
  return (
    <Badge tone={tone}>
      <span data-status={props.status}>{t(`live.${props.status}`)}</span>
    </Badge>
  );
}
