// A time-series chart drawn with ECharts, imported piece by piece (line and bar charts,
// grid, tooltip, legend, canvas) so the chunk stays small; it loads only with the
// screens that draw one.
import { useEffect, useRef } from "react";
import * as echarts from "echarts/core";
import { BarChart, LineChart } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";

echarts.use([LineChart, BarChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

/** One line or bar series: a name and one value per x label. */
export interface Series {
  name: string;
  values: number[];
  kind: "line" | "bar";
  /** Plotted against the right-hand axis (counts beside money). */
  right?: boolean;
}

/** A chart of `series` over the `labels` (dates). */
export default function TimeChart(props: { labels: string[]; series: Series[]; testId?: string }) {
  const element = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!element.current) return;
    const chart = echarts.init(element.current);
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 60, right: 50, top: 40, bottom: 30 },
      xAxis: { type: "category", data: props.labels },
      yAxis: [{ type: "value" }, { type: "value", splitLine: { show: false } }],
      series: props.series.map((series) => ({
        name: series.name,
        type: series.kind,
        data: series.values,
        yAxisIndex: series.right ? 1 : 0,
        showSymbol: false,
      })),
    });
    const resize = () => chart.resize();
    window.addEventListener("resize", resize);
    return () => {
      window.removeEventListener("resize", resize);
      chart.dispose();
    };
  }, [props.labels, props.series]);
  return <div className="chart" ref={element} data-testid={props.testId} />;
}
