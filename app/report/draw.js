// Draws the report's charts (inlined into report.html by app/report.ts, after chart.js).
// Input: the JSON in <script id="report-data"> (ReportData in report.ts). One learning-curve chart
// per task (thin line per seed, bold mean, shaded mean ± std); per task whose runs evaluate, a
// chart of the evaluations under the protocol's name and a table of the reported number (mean ±
// std over seeds); then one throughput chart.
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

  // Curves of `series(seed)` per seed, with `band` (mean ± std) when there are several seeds.
  function curveDatasets(groups, series, bandOf) {
    const out = [];
    groups.forEach(function (g) {
      const color = PALETTE[g.colorIndex % PALETTE.length];
      const band = bandOf(g);
      if (g.seeds.length > 1) {
        out.push({
          label: g.label + " − std",
          data: band.map(function (b) {
            return { x: b[0], y: b[1] - b[2] };
          }),
          borderWidth: 0,
          pointRadius: 0,
          fill: false,
          hideInLegend: true,
        });
        out.push({
          label: g.label + " ± std",
          data: band.map(function (b) {
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
          data: points(series(s)),
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
          data: band.map(function (b) {
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

  function learningDatasets(groups) {
    return curveDatasets(groups, function (s) {
      return s.returns;
    }, function (g) {
      return g.band;
    });
  }

  function evalDatasets(groups) {
    return curveDatasets(groups, function (s) {
      return s.evals;
    }, function (g) {
      return g.eval.band;
    });
  }

  // The reported evaluation number of each run: mean ± std over its seeds.
  function evalTable(groups) {
    const table = document.createElement("table");
    table.className = "eval";
    const head = document.createElement("tr");
    ["run", groups[0].eval.reported, "seeds"].forEach(function (t) {
      const th = document.createElement("th");
      th.textContent = t;
      head.appendChild(th);
    });
    table.appendChild(head);
    groups.forEach(function (g) {
      const tr = document.createElement("tr");
      const cells = [
        g.label,
        g.eval.seeds > 0
          ? g.eval.mean.toFixed(3) + (g.eval.seeds > 1 ? " ± " + g.eval.std.toFixed(3) : "")
          : "–",
        String(g.eval.seeds),
      ];
      if (g.eval.reported !== groups[0].eval.reported) cells[1] += " (" + g.eval.reported + ")";
      cells.forEach(function (t) {
        const td = document.createElement("td");
        td.textContent = t;
        tr.appendChild(td);
      });
      table.appendChild(tr);
    });
    root.appendChild(table);
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
      const evaluated = groups.filter(function (g) {
        return g.eval;
      });
      if (evaluated.length > 0) {
        const name = evaluated[0].eval.name;
        charts.push(
          lineChart(section("Evaluation · " + name + " · " + task), evalDatasets(evaluated), name),
        );
        evalTable(evaluated);
      }
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
