// Creators (admins): each creator's balances, their own platform fee (in percent here,
// basis points to the API; blank for the platform's default), and how they are paid:
// by transfer, or by profit sharing to their WeChat Pay merchant.
import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { AdminCreatorsDocument, SetCreatorFeeDocument, SetCreatorMerchantDocument } from "../../gql/graphql";
import { useT } from "../../lib/i18n";
import { pageArgs, useUrlState } from "../../lib/url";
import { errorFor, Field, FormErrors, formErrors, PageHeader, Pager, QueryState, type ApiUserError } from "../../ui/kit";
import { SearchForm } from "../../ui/search";

const PAGE_SIZE = 20;

export default function Creators() {
  const t = useT();
  const [params, update] = useUrlState();
  const [result] = useQuery({
    query: AdminCreatorsDocument,
    variables: { name: params.get("q") || null, ...pageArgs(params, PAGE_SIZE) },
  });
  const creators = result.data?.creators;
  return (
    <section>
      <PageHeader title={t("nav.creators")} />
      <SearchForm label={t("creators.name")} />
      <QueryState fetching={result.fetching} error={result.error} hasData={!!creators} />
      {creators && (
        <>
          <table className="list" data-testid="creators">
            <thead>
              <tr>
                <th>{t("creators.name")}</th>
                <th className="number">{t("dash.followers")}</th>
                <th className="number">{t("earn.pending")}</th>
                <th className="number">{t("earn.available")}</th>
                <th className="number">{t("earn.paidOut")}</th>
                <th>{t("creators.fee")}</th>
                <th>{t("creators.payment")}</th>
              </tr>
            </thead>
            <tbody>
              {creators.nodes.map((creator) => (
                <tr key={creator.id} data-creator={creator.id}>
                  <td>{creator.displayName}</td>
                  <td className="number">{creator.followerCount}</td>
                  <td className="number">{creator.earnings.pending.formatted}</td>
                  <td className="number">{creator.earnings.available.formatted}</td>
                  <td className="number">{creator.earnings.paidOut.formatted}</td>
                  <td>
                    <FeeForm creator={creator.id} basisPoints={creator.feeBasisPoints ?? null} />
                  </td>
                  <td>
                    <MerchantForm creator={creator.id} mchid={creator.wechatMerchantId ?? null} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager pageInfo={creators.pageInfo} totalCount={creators.totalCount} onPage={update} />
        </>
      )}
    </section>
  );
}

/** Basis points as a percentage with up to two decimals (`1250` → `12.5`). */
function percentOf(basisPoints: number | null): string {
  return basisPoints === null ? "" : String(basisPoints / 100);
}

/** A percentage typed by a person as basis points; null when blank, NaN when malformed. */
function basisPointsOf(text: string): number | null {
  if (!text.trim()) return null;
  const match = /^\s*(\d{1,3})(?:\.(\d{1,2}))?\s*$/.exec(text);
  return match ? Number(match[1]) * 100 + Number((match[2] ?? "").padEnd(2, "0")) : Number.NaN;
}

function FeeForm(props: { creator: string; basisPoints: number | null }) {
  const t = useT();
  const [value, setValue] = useState(percentOf(props.basisPoints));
  const [errors, setErrors] = useState<readonly ApiUserError[]>([]);
  const [state, save] = useMutation(SetCreatorFeeDocument);
  async function submit(event: FormEvent) {
    event.preventDefault();
    const basisPoints = basisPointsOf(value);
    if (Number.isNaN(basisPoints)) return setErrors([{ field: ["basisPoints"], message: t("creators.badFee") }]);
    setErrors((await save({ creator: props.creator, basisPoints })).data?.setCreatorFee.userErrors ?? []);
  }
  return (
    <form className="row-actions" onSubmit={submit}>
      <Field label={t("creators.feePercent")} error={errorFor(errors, "basisPoints")}>
        <input name="fee" inputMode="decimal" placeholder={t("creators.default")} value={value} onChange={(e) => setValue(e.target.value)} />
      </Field>
      <button type="submit" disabled={state.fetching}>
        {t("app.save")}
      </button>
      <FormErrors errors={formErrors(errors, ["basisPoints"])} />
    </form>
  );
}

function MerchantForm(props: { creator: string; mchid: string | null }) {
  const t = useT();
  const [mchid, setMchid] = useState(props.mchid ?? "");
  const [name, setName] = useState("");
  const [errors, setErrors] = useState<readonly ApiUserError[]>([]);
  const [state, save] = useMutation(SetCreatorMerchantDocument);
  async function submit(event: FormEvent) {
    event.preventDefault();
    const result = await save({ creator: props.creator, mchid: mchid.trim() || null, name: name.trim() || null });
    setErrors(result.data?.setCreatorMerchant.userErrors ?? []);
  }
  return (
    <form className="row-actions" onSubmit={submit}>
      <Field label={t("creators.mchid")} error={errorFor(errors, "mchid")}>
        <input name="mchid" placeholder={t("creators.transfer")} value={mchid} onChange={(e) => setMchid(e.target.value)} />
      </Field>
      <Field label={t("creators.merchantName")} error={errorFor(errors, "name")}>
        <input name="merchantName" value={name} onChange={(e) => setName(e.target.value)} />
      </Field>
      <button type="submit" disabled={state.fetching}>
        {t("app.save")}
      </button>
      <FormErrors errors={formErrors(errors, ["mchid", "name"])} />
    </form>
  );
}
