// The day so far, one point per reporting interval, drawn with the vendored uPlot
// (vendor/uPlot.iife.min.js defines the global `uPlot`): arrivals, offered, answered
// and abandoned calls on the left axis; the service level and its target on the right.
import { t } from "./i18n.js";
import { hhmm, num, pct, siteDate } from "./format.js";

const COLOURS = {
  arrived: "#8b949e",
  offered: "#d5dde6",
  answered: "#3fb950",
  abandoned: "#ff7b72",
  sl: "#39c5cf",
  target: "#39c5cf",
  axis: "#aab6c3",
  grid: "rgba(170, 182, 195, 0.14)",
};

export class DayChart {
  constructor(host) {
    this.host = host;
    this.plot = null;
    this.key = "";
    this.data = null;
    this.observer = new ResizeObserver(() => this.resize());
    this.observer.observe(host);
  }

  /** Rebuild (after a language change: the labels are in the series). */
  reset() {
    if (this.plot) this.plot.destroy();
    this.plot = null;
    this.key = "";
  }

  size() {
    const width = Math.max(300, Math.floor(this.host.clientWidth));
    const height = width > 1100 ? 280 : 230; // the legend goes below, outside this
    return { width, height };
  }

  resize() {
    if (!this.plot) return;
    const { width, height } = this.size();
    if (width !== this.plot.width || height !== this.plot.height) this.plot.setSize({ width, height });
  }

  /** Show the intervals; redraws only when they changed. */
  update(intervals, target) {
    const last = intervals[intervals.length - 1];
    const key = last
      ? `${intervals.length}|${last.start}|${last.arrived}|${last.offered}|${last.answered}|` +
        `${last.abandoned}|${last.service_level}|${target}`
      : `0|${target}`;
    if (key === this.key && this.plot) return;
    this.key = key;
    const xs = intervals.map((i) => i.start);
    const data = [
      xs,
      intervals.map((i) => i.arrived),
      intervals.map((i) => i.offered),
      intervals.map((i) => i.answered),
      intervals.map((i) => i.abandoned),
      intervals.map((i) => i.service_level),
      xs.map(() => target),
    ];
    this.host.classList.toggle("empty", xs.length === 0);
    if (!this.plot) this.create(data);
    else this.plot.setData(data);
  }

  showLatest(u) {
    const n = u.data[0].length;
    if (n && (u.cursor.idx === null || u.cursor.idx === undefined) && u.legend.idx !== n - 1) {
      u.setLegend({ idx: n - 1 });
    }
  }

  create(data) {
    const { width, height } = this.size();
    const calls = (u, v) => (v === null || v === undefined ? "—" : num(v));
    const rate = (u, v) => (v === null || v === undefined ? "—" : pct(v));
    const axisFont = "13px system-ui, sans-serif";
    const opts = {
      width,
      height,
      tzDate: (ts) => siteDate(ts),
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
      hooks: {
        // Off the plot, the legend shows the latest interval rather than dashes.
        setCursor: [(u) => this.showLatest(u)],
        setData: [(u) => this.showLatest(u)],
      },
      scales: {
        x: { time: true },
        calls: { auto: true, range: (u, min, max) => [0, Math.max(10, max * 1.05)] },
        rate: { auto: false, range: [0, 1] },
      },
      axes: [
        {
          stroke: COLOURS.axis,
          font: axisFont,
          grid: { stroke: COLOURS.grid },
          ticks: { stroke: COLOURS.grid },
          values: (u, vals) => vals.map((v) => hhmm(v)),
        },
        {
          scale: "calls",
          stroke: COLOURS.axis,
          font: axisFont,
          size: 60,
          grid: { stroke: COLOURS.grid },
          ticks: { stroke: COLOURS.grid },
          values: (u, vals) => vals.map((v) => num(v)),
        },
        {
          scale: "rate",
          side: 1,
          stroke: COLOURS.sl,
          font: axisFont,
          size: 56,
          grid: { show: false },
          ticks: { stroke: COLOURS.grid },
          values: (u, vals) => vals.map((v) => pct(v, 0)),
        },
      ],
      series: [
        { label: t("chart.time"), value: (u, v) => (v === null || v === undefined ? "—" : hhmm(v)) },
        { label: t("chart.arrived"), scale: "calls", stroke: COLOURS.arrived, width: 1.5, dash: [5, 4], value: calls, points: { show: false } },
        { label: t("chart.offered"), scale: "calls", stroke: COLOURS.offered, width: 2, value: calls, points: { show: false } },
        { label: t("chart.answered"), scale: "calls", stroke: COLOURS.answered, width: 2.5, fill: "rgba(63, 185, 80, 0.10)", value: calls, points: { show: false } },
        { label: t("chart.abandoned"), scale: "calls", stroke: COLOURS.abandoned, width: 2.5, value: calls, points: { show: false } },
        { label: t("chart.sl"), scale: "rate", stroke: COLOURS.sl, width: 2.5, value: rate, spanGaps: false, points: { show: false } },
        { label: t("chart.target"), scale: "rate", stroke: COLOURS.target, width: 1.5, dash: [10, 6], value: rate, points: { show: false } },
      ],
    };
    // eslint-disable-next-line no-undef
    this.plot = new uPlot(opts, data, this.host);
  }
}
