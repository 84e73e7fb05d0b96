// A group's members as its owner moderates them: mute one for some days (they read but
// cannot post), lift a mute, or remove one, with a reason they are shown. Pages forward with `members` in the
// address.
import { useMemo, useState } from "react";
import { useMutation, useQuery } from "urql";
import { GroupMembersDocument, MuteMemberDocument, RemoveMemberDocument } from "../../gql/graphql";
import { useT } from "../../lib/i18n";
import { useUrlState } from "../../lib/url";
import { FormErrors, QueryState, ForwardPager, type ApiUserError } from "../../ui/kit";

const PAGE_SIZE = 20;

export function GroupMembers(props: { groupId: string }) {
  const t = useT();
  const [params] = useUrlState();
  const context = useMemo(() => ({ additionalTypenames: ["User", "CommunityGroup"] }), []);
  const [result] = useQuery({
    query: GroupMembersDocument,
    variables: { id: props.groupId, first: PAGE_SIZE, after: params.get("members") },
    context,
  });
  const node = result.data?.node;
  const members = node && "members" in node ? node.members : null;
  return (
    <div className="panel">
      <h2>
        {t("groups.members")} {members && <span className="muted">{members.totalCount}</span>}
      </h2>
      <QueryState fetching={result.fetching} error={result.error} hasData={!!members} />
      {members && (
        <>
          <table data-testid="members">
            <tbody>
              {members.nodes.map((member) => (
                <MemberRow key={member.id} groupId={props.groupId} member={member} />
              ))}
            </tbody>
          </table>
          <ForwardPager pageInfo={members.pageInfo} param="members" />
        </>
      )}
    </div>
  );
}

function MemberRow(props: { groupId: string; member: { id: string; nickname: string | null } }) {
  const t = useT();
  const { member } = props;
  const [reason, setReason] = useState("");
  const [errors, setErrors] = useState<readonly ApiUserError[]>([]);
  const [days, setDays] = useState("7");
  const [done, setDone] = useState<"muted" | "unmuted" | "removed" | null>(null);
  const [, mute] = useMutation(MuteMemberDocument);
  const [, remove] = useMutation(RemoveMemberDocument);
  async function act(kind: "muted" | "unmuted" | "removed") {
    const input = { group: props.groupId, user: member.id };
    // A mute lasts the chosen number of days from now; no end lifts it.
    const until = kind === "muted" ? new Date(Date.now() + Number(days) * 86_400_000).toISOString() : null;
    const refused =
      kind === "removed"
        ? (await remove({ ...input, reason })).data?.removeMember.userErrors
        : (await mute({ ...input, until, reason: reason || null })).data?.muteMember.userErrors;
    setErrors(refused ?? []);
    if (refused?.length === 0) setDone(kind);
  }
  return (
    <tr data-member={member.id}>
      <td>{member.nickname ?? member.id}</td>
      <td className="row-actions">
        <input
          name="memberReason"
          placeholder={t("groups.reason")}
          value={reason}
          onChange={(event) => setReason(event.target.value)}
        />
        <select name="muteDays" value={days} onChange={(event) => setDays(event.target.value)}>
          {["1", "7", "30"].map((n) => (
            <option key={n} value={n}>
              {t("groups.days.n", { n })}
            </option>
          ))}
        </select>
        <button type="button" className="danger" onClick={() => act("muted")}>
          {t("live.mute")}
        </button>
        <button type="button" onClick={() => act("unmuted")}>
          {t("groups.unmute")}
        </button>
        <button type="button" className="danger" onClick={() => act("removed")}>
          {t("groups.remove")}
        </button>
        {done && <span className="muted">{t(`groups.${done}`)}</span>}
        <FormErrors errors={errors} />
      </td>
    </tr>
  );
}
