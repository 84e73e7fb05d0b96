// The creator's own dashboard: what they sold and kept over the range, the trend, how
// each livestream turned viewers into buyers, and their best products.
import { lazy, Suspense, useMemo } from "react";
import { useQuery } from "urql";
import { CreatorDashboardDocument } from "../../gql/graphql";
import { percent } from "../../lib/format";
import { useT } from "../../lib/i18n";
import { Figure, PageHeader, QueryState } from "../../ui/kit";
import { productName } from "../../ui/product";
import { RangePicker, useRange } from "../../ui/range";

const TimeChart = lazy(() => import("../../ui/chart"));

export default function CreatorDashboard() {
  const t = useT();
  const { from, to, granularity } = useRange();
  const [result] = useQuery({
    query: CreatorDashboardDocument,
    variables: { range: { from, to }, granularity },
  });
  const board = result.data?.creatorDashboard;
  const revenueLabel = t("dash.netRevenue");
  const ordersLabel = t("dash.paidOrders");
  const chart = useMemo(
    () =>
      board && {
        labels: board.netRevenue.series.map((point) => point.date),
        series: [
          { name: revenueLabel, kind: "line" as const, values: board.netRevenue.series.map((p) => p.value.amount / 100) },
          { name: ordersLabel, kind: "bar" as const, right: true, values: board.paidOrders.series.map((p) => p.value) },
        ],
      },
    [board, revenueLabel, ordersLabel],
  );
  return (
    <section>
      <PageHeader title={board ? `${t("nav.myDashboard")} · ${board.creator.displayName}` : t("nav.myDashboard")} />
      <RangePicker />
      <QueryState fetching={result.fetching} error={result.error} hasData={!!board} />
      {board && chart && (
        <>
          <div className="figures">
            <Figure testId="net-revenue" label={t("dash.netRevenue")} value={board.netRevenue.total.formatted} />
            <Figure label={t("dash.gmv")} value={board.grossSales.total.formatted} />
            <Figure label={t("dash.feeRevenue")} value={board.fees.total.formatted} />
            <Figure label={t("dash.paidOrders")} value={board.paidOrders.total} />
            <Figure label={t("dash.activeBuyers")} value={board.uniqueBuyers.total} />
            <Figure label={t("dash.views")} value={board.views.total} />
            <Figure label={t("dash.conversion")} value={percent(board.conversion.total)} />
            <Figure label={t("dash.followers")} value={board.creator.followerCount} />
          </div>
          <div className="panel">
            <h2>{t("dash.trend")}</h2>
            <Suspense fallback={<div className="chart" />}>
              <TimeChart labels={chart.labels} series={chart.series} />
            </Suspense>
          </div>
          <div className="columns">
            <div className="panel">
              <h2>{t("dash.liveFunnel")}</h2>
              <table data-testid="live-funnel">
                <thead>
                  <tr>
                    <th />
                    <th className="number">{t("dash.viewers")}</th>
                    <th className="number">{t("dash.peak")}</th>
                    <th className="number">{t("dash.bought")}</th>
                    <th className="number">{t("dash.conversion")}</th>
                    <th className="number">{t("dash.revenue")}</th>
                  </tr>
                </thead>
                <tbody>
                  {board.liveFunnel.map((entry, index) => (
                    <tr key={entry.livestream?.id ?? index}>
                      <td>{entry.livestream?.title ?? "—"}</td>
                      <td className="number">{entry.viewers}</td>
                      <td className="number">{entry.peakViewers}</td>
                      <td className="number">{entry.buyers}</td>
                      <td className="number">{percent(entry.conversion)}</td>
                      <td className="number">{entry.revenue.formatted}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div className="panel">
              <h2>{t("dash.topProducts")}</h2>
              <table>
                <tbody>
                  {board.topProducts.map((row, index) => (
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
