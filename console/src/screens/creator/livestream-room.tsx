// One livestream as its creator runs it: its details while scheduled, the push address
// for OBS (copyable), going live and ending with the replay address, calling it off,
// and the room's chat in real time (a subscription from the last logged event on)
// with delete, pin and mute.
import { useEffect, useMemo, useState } from "react";
import { useMutation, useQuery, useSubscription } from "urql";
import { Link, useParams } from "wouter";
import {
  CancelLivestreamDocument,
  DeleteChatMessageDocument,
  EndLivestreamDocument,
  LivestreamRoomDocument,
  MuteChatViewerDocument,
  PinChatMessageDocument,
  RoomEventsDocument,
  StartLivestreamDocument,
  type LivestreamRoomQuery,
  type RoomEventsSubscription,
} from "../../gql/graphql";
import { formatTime } from "../../lib/format";
import { useT } from "../../lib/i18n";
import { Field, Figure, FormErrors, PageHeader, QueryState, type ApiUserError } from "../../ui/kit";
import { LiveBadge } from "../../ui/status";
import { LivestreamEdit } from "./livestream-edit";

type Room = Extract<NonNullable<LivestreamRoomQuery["node"]>, { __typename?: "Livestream"; title: string }>;
type ChatMessage = Room["messages"]["nodes"][number];

export default function LivestreamRoom() {
  const t = useT();
  const id = decodeURIComponent(useParams<{ id: string }>().id);
  const [result] = useQuery({ query: LivestreamRoomDocument, variables: { id } });
  const node = result.data?.node;
  const room = node && "title" in node ? (node as Room) : null;
  return (
    <section>
      <PageHeader title={room?.title ?? ""}>
        <Link href="/creator/livestreams">{t("nav.myLivestreams")}</Link>
      </PageHeader>
      <QueryState fetching={result.fetching} error={result.error} hasData={!!room} />
      {room && <RoomView key={room.id} room={room} />}
    </section>
  );
}

function RoomView(props: { room: Room }) {
  const t = useT();
  const { room } = props;
  const [errors, setErrors] = useState<readonly ApiUserError[]>([]);
  const [replayUrl, setReplayUrl] = useState("");
  const [editing, setEditing] = useState(false);
  const [starting, start] = useMutation(StartLivestreamDocument);
  const [ending, end] = useMutation(EndLivestreamDocument);
  const [cancelling, cancel] = useMutation(CancelLivestreamDocument);
  const busy = starting.fetching || ending.fetching || cancelling.fetching;
  const live = useRoomEvents(room);
  return (
    <>
      <div className="status-bar" data-testid="live-status">
        <LiveBadge status={live.status} />
        <span className="muted">
          {t("live.start")} {formatTime(room.scheduledStart)}
        </span>
        {live.status === "SCHEDULED" && (
          <>
            <button
              type="button"
              className="primary"
              disabled={busy}
              onClick={async () => setErrors((await start({ livestream: room.id })).data?.startLivestream.userErrors ?? [])}
            >
              {t("live.goLive")}
            </button>
            <button type="button" onClick={() => setEditing(!editing)}>
              {t("courses.editLesson")}
            </button>
            <button
              type="button"
              className="danger"
              disabled={busy}
              onClick={async () => setErrors((await cancel({ livestream: room.id })).data?.cancelLivestream.userErrors ?? [])}
            >
              {t("live.cancel")}
            </button>
          </>
        )}
        <FormErrors errors={errors} />
      </div>
      {editing && live.status === "SCHEDULED" && <LivestreamEdit livestream={room} onDone={() => setEditing(false)} />}
      <div className="figures">
        <Figure testId="viewers" label={t("live.viewersNow")} value={live.viewerCount} />
        <Figure label={t("dash.peak")} value={room.peakViewers} />
        <Figure label={t("courses.priceYuan")} value={room.price.formatted} />
      </div>
      <div className="columns">
        <div className="panel">
          <h2>{t("live.push")}</h2>
          <CopyText text={room.pushUrl} testId="push-url" />
          <p className="muted">{t("live.pushHelp")}</p>
          {live.status === "LIVE" && (
            <div className="filters">
              <Field label={t("live.replayUrl")} error={errors.find((e) => e.field?.includes("replayUrl"))} wide>
                <input name="replayUrl" value={replayUrl} onChange={(event) => setReplayUrl(event.target.value)} />
              </Field>
              <div className="filter-actions">
                <button
                  type="button"
                  className="danger"
                  disabled={busy}
                  onClick={async () =>
                    setErrors(
                      (await end({ livestream: room.id, replayUrl: replayUrl || null })).data?.endLivestream.userErrors ?? [],
                    )
                  }
                >
                  {t("live.end")}
                </button>
              </div>
            </div>
          )}
          {room.replayUrl && <CopyText text={room.replayUrl} />}
        </div>
        <Chat roomId={room.id} messages={live.messages} pinned={live.pinned} />
      </div>
    </>
  );
}

/** The room's state: what the page loaded, moved forward by each event after it. */
function useRoomEvents(room: Room) {
  const [state, setState] = useState(() => ({
    status: room.status,
    viewerCount: room.viewerCount,
    messages: room.messages.nodes,
    pinned: room.pinnedMessage ?? null,
  }));
  const variables = useMemo(() => ({ livestream: room.id, after: room.lastEventSequence }), [room.id, room.lastEventSequence]);
  const open = room.status === "SCHEDULED" || room.status === "LIVE";
  const [events] = useSubscription({ query: RoomEventsDocument, variables, pause: !open });
  useEffect(() => {
    const event = events.data?.livestreamEvents;
    if (event) setState((old) => apply(old, event));
  }, [events.data]);
  return state;
}

type RoomState = ReturnType<typeof useRoomEvents>;

/** One event applied to the room's state. */
function apply(state: RoomState, event: RoomEventsSubscription["livestreamEvents"]): RoomState {
  switch (event.__typename) {
    case "LivestreamMessagePosted":
      return event.message && !state.messages.some((m) => m.id === event.message?.id)
        ? { ...state, messages: [...state.messages, event.message].slice(-200) }
        : state;
    case "LivestreamMessageDeleted":
      return { ...state, messages: state.messages.map((m) => (m.id === event.messageId ? { ...m, deleted: true } : m)) };
    case "LivestreamMessagePinned":
      return { ...state, pinned: event.message ?? null };
    case "LivestreamViewerCount":
      return { ...state, viewerCount: event.viewerCount };
    case "LivestreamStatusChanged":
      return event.status ? { ...state, status: event.status } : state;
    default:
      return state;
  }
}

/** The chat as moderators see it: newest at the bottom, deleted ones struck through. */
function Chat(props: { roomId: string; messages: ChatMessage[]; pinned: RoomState["pinned"] }) {
  const t = useT();
  const [errors, setErrors] = useState<readonly ApiUserError[]>([]);
  const [, remove] = useMutation(DeleteChatMessageDocument);
  const [, pin] = useMutation(PinChatMessageDocument);
  const [, mute] = useMutation(MuteChatViewerDocument);
  const livestream = props.roomId;
  return (
    <div className="panel">
      <h2>{t("live.chat")}</h2>
      {props.pinned && (
        <p className="notice" data-testid="pinned">
          📌 {props.pinned.author.nickname}：{props.pinned.body}
          <button type="button" onClick={async () => setErrors((await pin({ livestream, message: null })).data?.pinLivestreamMessage.userErrors ?? [])}>
            {t("live.unpin")}
          </button>
        </p>
      )}
      <ol className="chat" data-testid="chat">
        {props.messages.map((message) => (
          <li key={message.id} className={message.deleted ? "deleted" : ""} data-message={message.id}>
            <span className="muted">{formatTime(message.createdAt)}</span> <strong>{message.author.nickname}</strong>：
            {message.deleted ? t("live.deleted") : message.body}
            {!message.deleted && (
              <span className="row-actions">
                <button type="button" onClick={async () => setErrors((await remove({ livestream, message: message.id })).data?.deleteLivestreamMessage.userErrors ?? [])}>
                  {t("courses.deleteLesson")}
                </button>
                <button type="button" onClick={async () => setErrors((await pin({ livestream, message: message.id })).data?.pinLivestreamMessage.userErrors ?? [])}>
                  {t("live.pin")}
                </button>
                <button
                  type="button"
                  className="danger"
                  onClick={async () =>
                    setErrors((await mute({ livestream, user: message.author.id, muted: true })).data?.muteViewer.userErrors ?? [])
                  }
                >
                  {t("live.mute")}
                </button>
              </span>
            )}
          </li>
        ))}
      </ol>
      {props.messages.length === 0 && <p className="muted">{t("app.empty")}</p>}
      <FormErrors errors={errors} />
    </div>
  );
}

/** A long address with a button that copies it. */
function CopyText(props: { text?: string | null; testId?: string }) {
  const t = useT();
  const [copied, setCopied] = useState(false);
  if (!props.text) return <p className="muted">—</p>;
  return (
    <div className="copy">
      <code data-testid={props.testId}>{props.text}</code>
      <button
        type="button"
        onClick={async () => {
          await navigator.clipboard?.writeText(props.text ?? "");
          setCopied(true);
        }}
      >
        {copied ? t("live.copied") : t("live.copy")}
      </button>
    </div>
  );
}
