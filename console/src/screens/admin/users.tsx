// Users (admins): search by nickname, role and ban; ban and unban; make or unmake admins.
// Each row shows the userErrors of its last action beside it.
import { useState } from "react";
import { useMutation, useQuery } from "urql";
import { BanUserDocument, SetAdminDocument, UnbanUserDocument, UsersListDocument } from "../../gql/graphql";
import type { Role, UserFilter } from "../../gql/graphql";
import { formatTime } from "../../lib/format";
import { useT } from "../../lib/i18n";
import { session } from "../../lib/session";
import { FIRST_PAGE, pageArgs, useUrlState } from "../../lib/url";
import { Badge, Field, FormErrors, PageHeader, Pager, QueryState, type ApiUserError } from "../../ui/kit";
import { SearchForm } from "../../ui/search";

const PAGE_SIZE = 20;
const ROLES: Role[] = ["ADMIN", "CREATOR", "LEARNER"];

/** The API filter the address holds (`q`, `role`, `banned`). */
function userFilter(params: URLSearchParams): UserFilter {
  const filter: UserFilter = {};
  const q = params.get("q");
  if (q) filter.nicknameContains = q;
  const role = params.get("role");
  if (role && (ROLES as string[]).includes(role)) filter.role = role as Role;
  const banned = params.get("banned");
  if (banned === "true" || banned === "false") filter.banned = banned === "true";
  return filter;
}

export default function Users() {
  const t = useT();
  const [params, update] = useUrlState();
  const [result] = useQuery({
    query: UsersListDocument,
    variables: { filter: userFilter(params), ...pageArgs(params, PAGE_SIZE) },
  });
  const users = result.data?.users;


  return (
    <section>
      <PageHeader title={t("users.title")} />
      <SearchForm label={t("users.search")}>
        <Field label={t("users.role")}>
          <select
            name="role"
            value={params.get("role") ?? ""}
            onChange={(event) => update({ role: event.target.value, ...FIRST_PAGE })}
          >
            <option value="">{t("app.all")}</option>
            {ROLES.map((role) => (
              <option key={role} value={role}>
                {t(`role.${role}`)}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t("users.banned")}>
          <select
            name="banned"
            value={params.get("banned") ?? ""}
            onChange={(event) => update({ banned: event.target.value, ...FIRST_PAGE })}
          >
            <option value="">{t("app.all")}</option>
            <option value="true">{t("app.yes")}</option>
            <option value="false">{t("app.no")}</option>
          </select>
        </Field>
      </SearchForm>
      <QueryState fetching={result.fetching} error={result.error} hasData={!!users} />
      {users && (
        <>
          <table className="list" data-testid="users">
            <thead>
              <tr>
                <th>{t("users.nickname")}</th>
                <th>{t("users.role")}</th>
                <th>{t("users.joined")}</th>
                <th>{t("users.banned")}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {users.nodes.map((user) => (
                <UserRow key={user.id} user={user} />
              ))}
            </tbody>
          </table>
          <Pager pageInfo={users.pageInfo} totalCount={users.totalCount} onPage={update} />
        </>
      )}
    </section>
  );
}

/** One user with the actions an admin may take on them. */
function UserRow(props: {
  user: { id: string; nickname: string | null; role: Role; createdAt: string; bannedAt: string | null };
}) {
  const t = useT();
  const { user } = props;
  const [errors, setErrors] = useState<readonly ApiUserError[]>([]);
  const [banning, ban] = useMutation(BanUserDocument);
  const [unbanning, unban] = useMutation(UnbanUserDocument);
  const [promoting, setAdmin] = useMutation(SetAdminDocument);
  const busy = banning.fetching || unbanning.fetching || promoting.fetching;
  const isMe = session()?.viewer.id === user.id;

  async function act(run: () => Promise<{ userErrors: readonly ApiUserError[] } | undefined>) {
    setErrors((await run())?.userErrors ?? []);
  }

  return (
    <tr data-user={user.id}>
      <td>{user.nickname ?? user.id}</td>
      <td>{t(`role.${user.role}`)}</td>
      <td>{formatTime(user.createdAt)}</td>
      <td>{user.bannedAt ? <Badge tone="bad">{t("users.isBanned")}</Badge> : ""}</td>
      <td className="row-actions">
        {user.bannedAt ? (
          <button type="button" disabled={busy} onClick={() => act(async () => (await unban({ user: user.id })).data?.unbanUser)}>
            {t("users.unban")}
          </button>
        ) : (
          user.role !== "ADMIN" && (
            <button
              type="button"
              className="danger"
              disabled={busy}
              onClick={() => act(async () => (await ban({ user: user.id })).data?.banUser)}
            >
              {t("users.ban")}
            </button>
          )
        )}
        {!isMe && (
          <button
            type="button"
            disabled={busy}
            onClick={() =>
              act(async () => (await setAdmin({ user: user.id, admin: user.role !== "ADMIN" })).data?.setAdmin)
            }
          >
            {user.role === "ADMIN" ? t("users.demote") : t("users.promote")}
          </button>
        )}
        <FormErrors errors={errors} />
      </td>
    </tr>
  );
}
