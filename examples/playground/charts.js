// The playground's learning curves (chart.js, loaded as a UMD script by index.html): return and
// episode length, one series per session and mode, and the latest training series' losses.
// x is env steps of the session (trained + watched).

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b"];

/**
 * The three line charts (return, episode length, losses) on the given canvases; every method is a
 * no-op where chart.js (`Chart`) did not load.
 *
 * @param Chart The chart.js constructor (the UMD bundle's global), or undefined.
 * @param canvases The `ret`, `len` and `loss` canvases.
 */
export function createCharts(Chart, canvases) {
  const make = (canvas, y) =>
    Chart
      ? new Chart(canvas, {
        type: "line",
        data: { datasets: [] },
        options: {
          animation: false,
          maintainAspectRatio: false,
          parsing: false,
          spanGaps: true,
          scales: {
            x: { type: "linear", title: { display: true, text: "env steps (this session)" } },
            y: { title: { display: true, text: y } },
          },
          plugins: { legend: { labels: { boxWidth: 12, font: { size: 11 } } } },
          elements: { point: { radius: 1.5 } },
        },
      })
      : null;
  const ret = make(canvases.ret, "mean return per agent");
  const len = make(canvases.len, "episode length");
  const loss = make(canvases.loss, "losses");
  let series = 0;
  let cur = { ret: null, len: null };
  const dataset = (chart, label, color) => {
    if (!chart) return null;
    const d = { label, data: [], borderColor: color, backgroundColor: color, borderWidth: 1.5 };
    chart.data.datasets.push(d);
    if (chart.data.datasets.length > 8) chart.data.datasets.shift();
    return d;
  };
  return {
    /** Starts a new series (a new colour) in the return and length charts. */
    startSeries(label) {
      const color = PALETTE[series++ % PALETTE.length];
      cur = { ret: dataset(ret, label, color), len: dataset(len, label, color) };
      // The loss chart shows the latest training series (watching adds no losses).
      if (loss && label.endsWith("· train")) loss.data.datasets = [];
      for (const c of [ret, len, loss]) c?.update();
    },
    /** Adds one metrics read (`PlaygroundMetrics`) to the current series. */
    add(m) {
      const x = m.envSteps + m.watchSteps;
      if (m.episodes > 0) {
        cur.ret?.data.push({ x, y: m.meanReturn });
        cur.len?.data.push({ x, y: m.meanLength });
      }
      if (loss) {
        for (const [k, v] of Object.entries(m.scalars)) {
          if (!/loss/i.test(k) || !Number.isFinite(v)) continue;
          let d = loss.data.datasets.find((s) => s.label === k);
          if (!d) d = dataset(loss, k, PALETTE[loss.data.datasets.length % PALETTE.length]);
          d.data.push({ x, y: v });
        }
      }
      for (const c of [ret, len, loss]) c?.update();
    },
    /** Removes every series. */
    clear() {
      for (const c of [ret, len, loss]) {
        if (!c) continue;
        c.data.datasets = [];
        c.update();
      }
      cur = { ret: null, len: null };
    },
    /** Points per chart (tests check that the charts fill). */
    points() {
      const count = (c) => (c ? c.data.datasets.reduce((n, d) => n + d.data.length, 0) : 0);
      return { return: count(ret), length: count(len), loss: count(loss) };
    },
  };
}
