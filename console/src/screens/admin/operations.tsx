// Operations (admins): the platform's ledger (cash held, fees earned, owed to creators
// and promoters), a payout run with its results, and a rebuild of the recommendation
// model with its statistics.
import { useState } from "react";
import { useMutation, useQuery } from "urql";
import { PlatformLedgerDocument, RebuildRecommendationsDocument, RunPayoutsDocument } from "../../gql/graphql";
import { useT } from "../../lib/i18n";
import { Figure, FormErrors, PageHeader, QueryState, type ApiUserError } from "../../ui/kit";

export default function Operations() {
  const t = useT();
  const [ledger] = useQuery({ query: PlatformLedgerDocument });
  const [payouts, runPayouts] = useMutation(RunPayoutsDocument);
  const [model, rebuild] = useMutation(RebuildRecommendationsDocument);
  const [errors, setErrors] = useState<readonly ApiUserError[]>([]);
  const books = ledger.data?.platformLedger;
  const run = payouts.data?.runPayouts.run;
  const stats = model.data?.rebuildRecommendations.stats;
  return (
    <section>
      <PageHeader title={t("nav.operations")} />
      <QueryState fetching={ledger.fetching} error={ledger.error} hasData={!!books} />
      {books && (
        <div className="figures" data-testid="ledger">
          <Figure label={t("ops.cash")} value={books.cash.formatted} />
          <Figure label={t("ops.fees")} value={books.fees.formatted} />
          <Figure label={t("ops.owed")} value={books.owed.formatted} />
        </div>
      )}
      <div className="columns">
        <div className="panel">
          <h2>{t("ops.payouts")}</h2>
          <p className="muted">{t("ops.payoutsHelp")}</p>
          <button
            type="button"
            className="primary"
            disabled={payouts.fetching}
            onClick={async () => setErrors((await runPayouts({})).data?.runPayouts.userErrors ?? [])}
          >
            {t("ops.runPayouts")}
          </button>
          {run && (
            <dl className="facts" data-testid="payout-run">
              <dt>{t("ops.started")}</dt>
              <dd>{run.started}</dd>
              <dt>{t("ops.succeeded")}</dt>
              <dd>{run.succeeded}</dd>
              <dt>{t("ops.failed")}</dt>
              <dd>{run.failed}</dd>
              <dt>{t("ops.skipped")}</dt>
              <dd>{run.skipped}</dd>
              <dt>{t("ops.resumed")}</dt>
              <dd>{run.resumed}</dd>
            </dl>
          )}
        </div>
        <div className="panel">
          <h2>{t("ops.recommendations")}</h2>
          <button
            type="button"
            className="primary"
            disabled={model.fetching}
            onClick={async () => setErrors((await rebuild({})).data?.rebuildRecommendations.userErrors ?? [])}
          >
            {t("ops.rebuild")}
          </button>
          {stats && (
            <dl className="facts" data-testid="model-stats">
              <dt>{t("ops.users")}</dt>
              <dd>{stats.users}</dd>
              <dt>{t("ops.items")}</dt>
              <dd>{stats.items}</dd>
              <dt>{t("ops.interactions")}</dt>
              <dd>{stats.interactions}</dd>
              <dt>{t("ops.similarities")}</dt>
              <dd>
                {stats.nonZeroSimilarities} ({stats.similarity})
              </dd>
              <dt>{t("ops.seconds")}</dt>
              <dd>{stats.buildSeconds.toFixed(2)} s</dd>
            </dl>
          )}
        </div>
      </div>
      <FormErrors errors={errors} />
    </section>
  );
}
