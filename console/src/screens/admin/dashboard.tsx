// The platform dashboard (admins): headline figures over the range, GMV and net revenue
// per bucket with paid orders beside them, the recommendation funnel, and the creators
// and products that sold most.
import { lazy, Suspense, useMemo } from "react";
import { useQuery } from "urql";
import { PlatformDashboardDocument } from "../../gql/graphql";
import { percent } from "../../lib/format";
import { useT } from "../../lib/i18n";
import { Figure, PageHeader, QueryState } from "../../ui/kit";
import { Funnel } from "../../ui/funnel";
import { productName } from "../../ui/product";
import { RangePicker, useRange } from "../../ui/range";

const TimeChart = lazy(() => import("../../ui/chart"));

export default function PlatformDashboard() {
  const t = useT();
  const { from, to, granularity } = useRange();
  const [result] = useQuery({
    query: PlatformDashboardDocument,
    variables: { range: { from, to }, granularity },
  });
  const stats = result.data?.platformStats;
  const [gmvLabel, netLabel, ordersLabel] = [t("dash.gmv"), t("dash.netRevenue"), t("dash.paidOrders")];
  // Redrawn when the data or the language changes, not on every render.
  const chart = useMemo(
    () =>
      stats && {
        labels: stats.gmv.series.map((point) => point.date),
        series: [
          { name: gmvLabel, kind: "line" as const, values: stats.gmv.series.map((p) => p.value.amount / 100) },
          { name: netLabel, kind: "line" as const, values: stats.netRevenue.series.map((p) => p.value.amount / 100) },
          { name: ordersLabel, kind: "bar" as const, right: true, values: stats.paidOrders.series.map((p) => p.value) },
        ],
      },
    [stats, gmvLabel, netLabel, ordersLabel],
  );

  return (
    <section>
      <PageHeader title={t("nav.dashboard")} />
      <RangePicker />
      <QueryState fetching={result.fetching} error={result.error} hasData={!!stats} />
      {stats && (
        <>
          <div className="figures">
            <Figure testId="gmv" label={t("dash.gmv")} value={stats.gmv.total.formatted} />
            <Figure label={t("dash.netRevenue")} value={stats.netRevenue.total.formatted} />
            <Figure label={t("dash.feeRevenue")} value={stats.feeRevenue.total.formatted} />
            <Figure testId="paid-orders" label={t("dash.paidOrders")} value={stats.paidOrders.total} />
            <Figure label={t("dash.activeBuyers")} value={stats.activeBuyers.total} />
            <Figure label={t("dash.newUsers")} value={stats.newUsers.total} />
            <Figure label={t("dash.refundRate")} value={percent(stats.refundRate.total)} />
            <Figure label={t("dash.conversion")} value={percent(stats.conversion.total)} />
          </div>
          <div className="panel">
            <h2>{t("dash.trend")}</h2>
            <Suspense fallback={<div className="chart" />}>
              {chart && <TimeChart testId="trend" labels={chart.labels} series={chart.series} />}
            </Suspense>
          </div>
          <div className="columns">
            <div className="panel">
              <h2>{t("dash.funnel")}</h2>
              <Funnel
                steps={[
                  [t("dash.shown"), stats.recommendationFunnel.shown.total],
                  [t("dash.clicked"), stats.recommendationFunnel.clicked.total],
                  [t("dash.bought"), stats.recommendationFunnel.bought.total],
                ]}
              />
            </div>
            <div className="panel">
              <h2>{t("dash.topCreators")}</h2>
              <table>
                <tbody>
                  {stats.topCreators.map((row, index) => (
                    <tr key={row.creator?.id ?? index}>
                      <td>{row.creator?.displayName ?? "—"}</td>
                      <td className="number">{row.sales}</td>
                      <td className="number">{row.netRevenue.formatted}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div className="panel">
              <h2>{t("dash.topProducts")}</h2>
              <table>
                <tbody>
                  {stats.topProducts.map((row, index) => (
                    <tr key={index}>
                      <td>{productName(row.product)}</td>
                      <td className="number">{row.sales}</td>
                      <td className="number">{row.netRevenue.formatted}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </div>
        </>
      )}
    </section>
  );
}
