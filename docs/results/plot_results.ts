/**
 * Mean learning curves over seeds with 95 % stratified bootstrap bands (`curveBand`, app/curves.ts),
 * one per labelled run folder, as a small self-contained SVG.
 *
 *     deno run -R -W docs/results/plot_results.ts OUT.svg LABEL=RUN_DIR[@start] …
 *
 * RUN_DIR is a run folder (its `seed-<k>/` folders are the seeds) or a single seed folder. A seed's
 * curve is its rows' `eval.value` (rows without an evaluation are skipped), or `meanReturn` when the
 * run never evaluates. `@start` places each evaluation at the start of its row's interval (the
 * previous row's env steps, 0 for the first row): DIALS and untrained-DIALS evaluate before the
 * interval's iterations, so their row at step s reports the policy of the previous log point.
 *
 * @module
 */
import { type Curve, curveBand } from "../../app/curves.ts";
import { seedDirsOf } from "../../app/report_runs.ts";
import { readMetricsRows } from "../../app/run_files.ts";

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];
const [out, ...specs] = Deno.args;
if (!out?.endsWith(".svg") || specs.length === 0) {
  console.error("usage: plot_results.ts OUT.svg LABEL=RUN_DIR[@start] …");
  Deno.exit(2);
}

async function seedCurves(dir: string, atStart: boolean): Promise<Curve[]> {
  return await Promise.all(
    (await seedDirsOf(dir)).map(async (s) => {
      const rows = await readMetricsRows(s);
      const x = (i: number) => atStart ? (rows[i - 1]?.envSteps ?? 0) : rows[i].envSteps;
      const ev = rows.flatMap((r, i) => r.eval ? [[x(i), r.eval.value] as const] : []);
      return ev.length > 0 ? ev : rows.map((r, i) => [x(i), r.meanReturn] as const);
    }),
  );
}

const series = await Promise.all(specs.map(async (spec) => {
  const m = /^([^=]+)=(.+?)(@start)?$/.exec(spec);
  if (!m) throw new Error(`bad series "${spec}": expected LABEL=RUN_DIR[@start]`);
  const curves = await seedCurves(m[2], m[3] !== undefined);
  return { label: `${m[1]} (n = ${curves.length})`, band: curveBand([curves], { seed: 0 }) };
}));

const W = 640, H = 400, L = 60, R = 170, T = 20, B = 45;
const pts = series.flatMap((s) => s.band);
const x0 = Math.min(...pts.map((p) => p.step)), x1 = Math.max(...pts.map((p) => p.step));
const y0 = Math.min(...pts.map((p) => p.lower)), y1 = Math.max(...pts.map((p) => p.upper));
const sx = (x: number) => L + ((x - x0) / (x1 - x0 || 1)) * (W - L - R);
const sy = (y: number) => H - B - ((y - y0) / (y1 - y0 || 1)) * (H - T - B);
const f = (v: number) => v.toFixed(1);
const ticks = (lo: number, hi: number) => {
  const step = 10 ** Math.floor(Math.log10((hi - lo) / 4 || 1));
  const k = [1, 2, 5, 10].find((m) => (hi - lo) / (m * step) <= 6)! * step;
  const t: number[] = [];
  for (let v = Math.ceil(lo / k) * k; v <= hi + 1e-9; v += k) t.push(v);
  return t;
};
const yMid = (T + H - B) / 2, lx = W - R + 10, yLabel = "return (mean, 95% CI)";
const fmtSteps = (v: number) => v >= 1e6 ? `${v / 1e6}M` : v >= 1e3 ? `${v / 1e3}k` : `${v}`;
const svg = [
  "<!-- deno-fmt-ignore-file -->", // generated: one element per line, as written here
  `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
  `<rect width="${W}" height="${H}" fill="white"/>`,
  ...ticks(x0, x1).map((v) =>
    `<line x1="${f(sx(v))}" x2="${f(sx(v))}" y1="${T}" y2="${H - B}" stroke="#eee"/>` +
    `<text x="${f(sx(v))}" y="${H - B + 16}" text-anchor="middle">${fmtSteps(v)}</text>`
  ),
  ...ticks(y0, y1).map((v) =>
    `<line x1="${L}" x2="${W - R}" y1="${f(sy(v))}" y2="${f(sy(v))}" stroke="#eee"/>` +
    `<text x="${L - 6}" y="${f(sy(v) + 4)}" text-anchor="end">${+v.toPrecision(6)}</text>`
  ),
  `<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#333"/>`,
  `<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">env steps</text>`,
  `<text transform="translate(14 ${yMid}) rotate(-90)" text-anchor="middle">${yLabel}</text>`,
  ...series.flatMap(({ label, band }, i) => {
    const c = COLORS[i % COLORS.length];
    const up = band.map((p) => `${f(sx(p.step))},${f(sy(p.upper))}`);
    const lo = band.map((p) => `${f(sx(p.step))},${f(sy(p.lower))}`).reverse();
    const mean = band.map((p) => `${f(sx(p.step))},${f(sy(p.estimate))}`);
    const ly = T + 10 + 18 * i, text = label.replace(/&/g, "&amp;").replace(/</g, "&lt;");
    return [
      `<polygon points="${[...up, ...lo].join(" ")}" fill="${c}" fill-opacity="0.18"/>`,
      `<polyline points="${mean.join(" ")}" fill="none" stroke="${c}" stroke-width="2"/>`,
      `<line x1="${lx}" x2="${lx + 20}" y1="${ly}" y2="${ly}" stroke="${c}" stroke-width="3"/>`,
      `<text x="${lx + 25}" y="${ly + 4}">${text}</text>`,
    ];
  }),
  "</svg>",
];
await Deno.writeTextFile(out, svg.join("\n") + "\n");
console.log(`wrote ${out}: ${series.map((s) => s.label).join(", ")}`);
