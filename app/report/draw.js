// Draws the report's charts (inlined into report.html by app/report.ts, after chart.js).
// Input: the JSON in <script id="report-data"> (ReportData in report.ts). One learning-curve chart
// per task (thin line per seed, bold mean, shaded mean ± std), then one throughput chart.
// When done it sets <body data-charts="n" data-rendered="m">; on failure it shows the error and
// sets data-error (the headless-browser test reads these).
(function () {
  "use strict";
  const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b"];
  const root = document.getElementById("charts");

  function rgba(hex, alpha) {
    const n = parseInt(hex.slice(1), 16);
    return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + alpha + ")";
  }

  function section(title) {
    const h = document.createElement("h2");
    h.textContent = title;
    const box = document.createElement("div");
    box.className = "chart";
    const canvas = document.createElement("canvas");
    box.appendChild(canvas);
    root.appendChild(h);
    root.appendChild(box);
    return canvas;
  }

  function points(pairs) {
    return pairs.map(function (p) {
      return { x: p[0], y: p[1] };
    });
  }

  function lineChart(canvas, datasets, yTitle) {
    return new Chart(canvas, {
      type: "line",
      data: { datasets: datasets },
      options: {
        animation: false,
        maintainAspectRatio: false,
        parsing: true,
        spanGaps: true,
        interaction: { mode: "nearest", intersect: false },
        scales: {
          x: { type: "linear", title: { display: true, text: "env steps" } },
          y: { title: { display: true, text: yTitle } },
        },
        plugins: {
          legend: {
            labels: {
              filter: function (item, data) {
                return !data.datasets[item.datasetIndex].hideInLegend;
              },
            },
          },
        },
      },
    });
  }

  function learningDatasets(groups) {
    const out = [];
    groups.forEach(function (g) {
      const color = PALETTE[g.colorIndex % PALETTE.length];
      if (g.seeds.length > 1) {
        out.push({
          label: g.label + " − std",
          data: g.band.map(function (b) {
            return { x: b[0], y: b[1] - b[2] };
          }),
          borderWidth: 0,
          pointRadius: 0,
          fill: false,
          hideInLegend: true,
        });
        out.push({
          label: g.label + " ± std",
          data: g.band.map(function (b) {
            return { x: b[0], y: b[1] + b[2] };
          }),
          borderWidth: 0,
          pointRadius: 0,
          backgroundColor: rgba(color, 0.18),
          fill: "-1",
        });
      }
      g.seeds.forEach(function (s) {
        out.push({
          label: g.label + " seed " + s.seed,
          data: points(s.returns),
          borderColor: rgba(color, 0.45),
          borderWidth: 1,
          pointRadius: 0,
          fill: false,
          hideInLegend: g.seeds.length > 1,
        });
      });
      if (g.seeds.length > 1) {
        out.push({
          label: g.label + " (mean of " + g.seeds.length + " seeds)",
          data: g.band.map(function (b) {
            return { x: b[0], y: b[1] };
          }),
          borderColor: color,
          backgroundColor: color,
          borderWidth: 2.5,
          pointRadius: 0,
          fill: false,
        });
      }
    });
    return out;
  }

  try {
    const data = JSON.parse(document.getElementById("report-data").textContent);
    data.groups.forEach(function (g, i) {
      g.colorIndex = i;
    });
    const tasks = [];
    data.groups.forEach(function (g) {
      if (tasks.indexOf(g.env) < 0) tasks.push(g.env);
    });
    const charts = [];
    tasks.forEach(function (task) {
      const groups = data.groups.filter(function (g) {
        return g.env === task;
      });
      charts.push(
        lineChart(
          section("Mean episode return · " + task),
          learningDatasets(groups),
          "mean return",
        ),
      );
    });
    const through = [];
    data.groups.forEach(function (g) {
      const color = PALETTE[g.colorIndex % PALETTE.length];
      g.seeds.forEach(function (s) {
        through.push({
          label: g.label + " seed " + s.seed,
          data: points(s.throughput),
          borderColor: color,
          backgroundColor: color,
          borderWidth: 1.5,
          pointRadius: 1,
          fill: false,
        });
      });
    });
    charts.push(lineChart(section("Throughput"), through, "env steps / s"));
    const rendered = charts.filter(function (c) {
      return Chart.getChart(c.canvas) === c && c.canvas.width > 0 && c.data.datasets.length > 0;
    }).length;
    document.body.dataset.charts = String(charts.length);
    document.body.dataset.rendered = String(rendered);
  } catch (e) {
    document.body.dataset.error = String(e && e.stack || e);
    const p = document.createElement("pre");
    p.className = "error";
    p.textContent = "Report failed to draw: " + String(e && e.stack || e);
    root.appendChild(p);
    throw e;
  }
})();
