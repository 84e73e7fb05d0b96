// The creator's community groups: the list (members are counted on each group's page),
// and the form that opens a new group (free, or paid for a number of days).
import { useMemo, useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { Link, useLocation } from "wouter";
import { CreateGroupDocument, MyGroupsDocument } from "../../gql/graphql";
import { formatTime, yuanToFen } from "../../lib/format";
import { useT } from "../../lib/i18n";
import { session } from "../../lib/session";
import { pageArgs, useUrlState } from "../../lib/url";
import { errorFor, Field, FormErrors, formErrors, PageHeader, Pager, QueryState, type ApiUserError } from "../../ui/kit";

const PAGE_SIZE = 20;

export default function Groups() {
  const t = useT();
  const [params, update] = useUrlState();
  const context = useMemo(() => ({ additionalTypenames: ["CommunityGroup"] }), []);
  const [result] = useQuery({
    query: MyGroupsDocument,
    variables: { creator: session()?.viewer.creatorId ?? "", ...pageArgs(params, PAGE_SIZE) },
    context,
  });
  const node = result.data?.node;
  const groups = node && "groups" in node ? node.groups : null;
  const creating = params.get("new") === "1";
  return (
    <section>
      <PageHeader title={t("nav.myGroups")}>
        <button type="button" className="primary" onClick={() => update({ new: creating ? null : "1" })}>
          {t("groups.new")}
        </button>
      </PageHeader>
      {creating && <NewGroupForm />}
      <QueryState fetching={result.fetching} error={result.error} hasData={!!groups} />
      {groups && (
        <>
          <table className="list" data-testid="my-groups">
            <thead>
              <tr>
                <th>{t("groups.name")}</th>
                <th className="number">{t("courses.priceYuan")}</th>
                <th className="number">{t("groups.days")}</th>
                <th>{t("app.createdAt")}</th>
              </tr>
            </thead>
            <tbody>
              {groups.nodes.map((group) => (
                <tr key={group.id}>
                  <td>
                    <Link href={`/creator/groups/${encodeURIComponent(group.id)}`}>{group.name}</Link>
                  </td>
                  <td className="number">{group.price.formatted}</td>
                  <td className="number">{group.membershipDays ?? "∞"}</td>
                  <td>{formatTime(group.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {groups.nodes.length === 0 && <p className="muted">{t("app.empty")}</p>}
          <Pager pageInfo={groups.pageInfo} totalCount={groups.totalCount} onPage={update} />
        </>
      )}
    </section>
  );
}

const FIELDS = ["name", "description", "priceFen", "membershipDays"] as const;

function NewGroupForm() {
  const t = useT();
  const [, navigate] = useLocation();
  const [values, setValues] = useState({ name: "", description: "", price: "", days: "" });
  const [errors, setErrors] = useState<readonly ApiUserError[]>([]);
  const [state, create] = useMutation(CreateGroupDocument);
  const set = (name: keyof typeof values) => (event: { target: { value: string } }) =>
    setValues((old) => ({ ...old, [name]: event.target.value }));

  async function submit(event: FormEvent) {
    event.preventDefault();
    const priceFen = yuanToFen(values.price || "0");
    if (priceFen === null) return setErrors([{ field: ["priceFen"], message: t("orders.badAmount") }]);
    const days = values.days.trim() ? Number(values.days) : null;
    const result = await create({
      input: {
        name: values.name,
        description: values.description || null,
        priceFen,
        membershipDays: days !== null && Number.isInteger(days) ? days : days === null ? null : -1,
        timeZone: "Asia/Shanghai",
      },
    });
    const payload = result.data?.createGroup;
    setErrors(payload?.userErrors ?? []);
    if (payload?.group) navigate(`/creator/groups/${encodeURIComponent(payload.group.id)}`);
  }

  return (
    <form className="panel form-grid" onSubmit={submit}>
      <Field label={t("groups.name")} error={errorFor(errors, "name")}>
        <input name="name" value={values.name} onChange={set("name")} />
      </Field>
      <Field label={t("courses.priceYuan")} error={errorFor(errors, "priceFen")}>
        <input name="price" inputMode="decimal" value={values.price} onChange={set("price")} />
      </Field>
      <Field label={t("groups.daysHelp")} error={errorFor(errors, "membershipDays")}>
        <input name="days" inputMode="numeric" value={values.days} onChange={set("days")} />
      </Field>
      <Field label={t("courses.description")} error={errorFor(errors, "description")} wide>
        <textarea name="description" rows={3} value={values.description} onChange={set("description")} />
      </Field>
      <FormErrors errors={formErrors(errors, FIELDS)} />
      <div className="filter-actions">
        <button type="submit" className="primary" disabled={state.fetching}>
          {t("courses.create")}
        </button>
      </div>
    </form>
  );
}
