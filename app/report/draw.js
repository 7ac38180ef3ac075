// Draws the report (inlined into report.html by app/report.ts, after chart.js).
// Input: the JSON in <script id="report-data"> (ReportData in app/report.ts): `panels`, each a
// chart of series with a role (main: a lone seed's bold line; seed: thin per-seed lines; mean: the
// bold mean over seeds; band: its interval, filled) and dashed reference lines (the paper's
// number); then `tables`. Curves with few points show their points, so a one-row run is a dot;
// curves of one run that share its colour (agents, scalars) differ in dash pattern.
// When done it sets <body data-charts="n" data-rendered="m">; on failure it shows the error and
// sets data-error (the headless-browser test reads these).
(function () {
  "use strict";
  const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b"];
  const DASHES = [[], [6, 3], [2, 2], [10, 3, 2, 3], [1, 4]];
  const root = document.getElementById("charts");

  function colorOf(i) {
    return PALETTE[i % PALETTE.length];
  }

  function rgba(hex, alpha) {
    const n = parseInt(hex.slice(1), 16);
    return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + alpha + ")";
  }

  function heading(text) {
    const h = document.createElement("h2");
    h.textContent = text;
    root.appendChild(h);
  }

  function canvasBox() {
    const box = document.createElement("div");
    box.className = "chart";
    const canvas = document.createElement("canvas");
    box.appendChild(canvas);
    root.appendChild(box);
    return canvas;
  }

  function xy(points) {
    return points.map(function (p) {
      return { x: p[0], y: p[1] };
    });
  }

  function finiteCount(points) {
    return points.filter(function (p) {
      return p[1] !== null;
    }).length;
  }

  // Points stay visible where a line would be too short to see.
  function radius(points, base) {
    const n = finiteCount(points);
    return n <= 1 ? base + 2 : n <= 12 ? base : 0;
  }

  function seriesDatasets(s) {
    const color = colorOf(s.color);
    if (s.role === "band") {
      return [
        {
          label: s.label + " (lower)",
          data: xy(s.points),
          borderWidth: 0,
          pointRadius: 0,
          fill: false,
          hideInLegend: true,
        },
        {
          label: s.label,
          data: xy(s.upper),
          borderWidth: 0,
          pointRadius: 0,
          backgroundColor: rgba(color, 0.18),
          fill: "-1",
        },
      ];
    }
    const thin = s.role === "seed";
    return [{
      label: s.label,
      data: xy(s.points),
      borderColor: thin ? rgba(color, 0.4) : color,
      backgroundColor: thin ? rgba(color, 0.4) : color,
      borderWidth: thin ? 1 : 2.5,
      borderDash: DASHES[(s.dash || 0) % DASHES.length],
      pointRadius: radius(s.points, thin ? 1.5 : 2.5),
      fill: false,
      hideInLegend: thin,
    }];
  }

  function referenceDatasets(panel) {
    let maxX = 0;
    panel.series.forEach(function (s) {
      s.points.forEach(function (p) {
        if (p[1] !== null && p[0] > maxX) maxX = p[0];
      });
    });
    return panel.references.map(function (r) {
      const color = colorOf(r.color);
      return {
        label: r.label,
        data: [{ x: 0, y: r.value }, { x: maxX || 1, y: r.value }],
        borderColor: color,
        backgroundColor: color,
        borderDash: [6, 4],
        borderWidth: 1.5,
        pointRadius: 0,
        fill: false,
      };
    });
  }

  function chart(panel) {
    heading(panel.title);
    const datasets = [];
    panel.series.forEach(function (s) {
      seriesDatasets(s).forEach(function (d) {
        datasets.push(d);
      });
    });
    referenceDatasets(panel).forEach(function (d) {
      datasets.push(d);
    });
    return new Chart(canvasBox(), {
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
          y: { title: { display: true, text: panel.yTitle } },
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

  function table(t) {
    heading(t.title);
    const el = document.createElement("table");
    el.className = "data";
    const head = document.createElement("tr");
    t.columns.forEach(function (c) {
      const th = document.createElement("th");
      th.textContent = c;
      head.appendChild(th);
    });
    el.appendChild(head);
    t.rows.forEach(function (row) {
      const tr = document.createElement("tr");
      row.forEach(function (cell) {
        const td = document.createElement("td");
        td.textContent = cell;
        tr.appendChild(td);
      });
      el.appendChild(tr);
    });
    root.appendChild(el);
    if (t.note) {
      const p = document.createElement("p");
      p.className = "note";
      p.textContent = t.note;
      root.appendChild(p);
    }
  }

  try {
    const data = JSON.parse(document.getElementById("report-data").textContent);
    const charts = data.panels.map(chart);
    data.tables.forEach(table);
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
