// The creator's earnings: what is pending (inside the refund window), available and
// paid out; a month's statement (opening balance to closing balance); and the ledger
// lines behind them, newest first.
import { useQuery } from "urql";
import { MyEarningsDocument } from "../../gql/graphql";
import { formatTime, shanghaiDay } from "../../lib/format";
import { useT } from "../../lib/i18n";
import { session } from "../../lib/session";
import { useUrlState } from "../../lib/url";
import { Field, Figure, PageHeader, QueryState, ForwardPager } from "../../ui/kit";

export default function Earnings() {
  const t = useT();
  const [params, update] = useUrlState();
  const month = params.get("month") ?? shanghaiDay(new Date()).slice(0, 7);
  const [result] = useQuery({
    query: MyEarningsDocument,
    variables: { creator: session()?.viewer.creatorId ?? "", month, after: params.get("after") },
  });
  const node = result.data?.node;
  const books = node && "earnings" in node ? node : null;
  return (
    <section>
      <PageHeader title={t("nav.earnings")} />
      <QueryState fetching={result.fetching} error={result.error} hasData={!!books} />
      {books && (
        <>
          <div className="figures" data-testid="earnings">
            <Figure label={t("earn.pending")} value={books.earnings.pending.formatted} />
            <Figure label={t("earn.available")} value={books.earnings.available.formatted} />
            <Figure label={t("earn.paidOut")} value={books.earnings.paidOut.formatted} />
          </div>
          <div className="columns">
            <div className="panel">
              <h2>{t("earn.statement")}</h2>
              <div className="filters">
                <Field label={t("earn.month")}>
                  <input type="month" name="month" value={month} onChange={(e) => update({ month: e.target.value })} />
                </Field>
              </div>
              <dl className="facts" data-testid="statement">
                <dt>{t("earn.opening")}</dt>
                <dd>{books.statement.openingBalance.formatted}</dd>
                <dt>{t("earn.sales")}</dt>
                <dd>{books.statement.sales.formatted}</dd>
                <dt>{t("earn.refunds")}</dt>
                <dd>{books.statement.refunds.formatted}</dd>
                <dt>{t("earn.fees")}</dt>
                <dd>{books.statement.fees.formatted}</dd>
                <dt>{t("earn.commissions")}</dt>
                <dd>{books.statement.commissions.formatted}</dd>
                <dt>{t("earn.payouts")}</dt>
                <dd>{books.statement.payouts.formatted}</dd>
                <dt>{t("earn.closing")}</dt>
                <dd>
                  <strong>{books.statement.closingBalance.formatted}</strong>
                </dd>
              </dl>
            </div>
            <div className="panel">
              <h2>{t("earn.ledger")}</h2>
              <table data-testid="ledger-entries">
                <tbody>
                  {books.ledgerEntries.nodes.map((entry, index) => (
                    <tr key={index}>
                      <td>{t(`earn.${entry.kind}`)}</td>
                      <td className="number">{entry.amount.formatted}</td>
                      <td>{formatTime(entry.createdAt)}</td>
                      <td className="muted">
                        {t("earn.availableAt")} {formatTime(entry.availableAt)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <ForwardPager pageInfo={books.ledgerEntries.pageInfo} />
            </div>
          </div>
        </>
      )}
    </section>
  );
}
