/**
 * The HTML report of one or several runs: learning curves (mean return vs env steps) per algorithm
 * and seed with a mean ± std band across seeds, one chart per task, and throughput (env steps/s).
 * Runs with an evaluation protocol add, per task, a chart of the evaluations under the protocol's
 * name and a table of the number the paper reports (the best model's value with `best`, else the
 * last evaluation), mean ± std over seeds. Drawn with chart.js; the page is self-contained and
 * opens offline.
 *
 * How chart.js gets into the page: at build time the `chart.js` import-map entry is resolved with
 * `import.meta.resolve` to the npm package in Deno's cache (`…/chart.js/<version>/dist/chart.js`);
 * its sibling UMD bundle `dist/chart.umd.min.js` is read and inlined in a `<script>`. The drawing
 * code is `app/report/draw.js`, inlined the same way; the data is inlined as JSON.
 *
 * @module
 */
import { envLabel, parseYaml, readMetricsRows, RUN_FILES, writeFileAtomic } from "./run_files.ts";

/** One seed's curve. */
export interface SeedSeries {
  seed: number;
  dir: string;
  /** [envSteps, meanReturn (null when no episode finished)]. */
  returns: [number, number | null][];
  /** [envSteps, env steps/s]. */
  throughput: [number, number][];
  /** [envSteps, evaluation value] at the evaluation points (empty without evaluation). */
  evals: [number, number | null][];
  /** The reported evaluation number: the best model's value with `best`, else the last; or null. */
  evalFinal: number | null;
}

/** The evaluation of a run group, under the protocol's names. */
export interface EvalSummary {
  /** Name of one evaluation's value, e.g. "team return (20 greedy episodes)". */
  name: string;
  /** Name of the reported number, e.g. "final evaluation return (best model, 100 stochastic episodes)". */
  reported: string;
  /** [envSteps, mean, std] of the evaluations over seeds. */
  band: [number, number, number][];
  /** Mean and sample std of the reported number over the seeds that have one. */
  mean: number;
  std: number;
  seeds: number;
}

/** The seeds of one run folder (one algorithm on one task). */
export interface RunGroup {
  label: string;
  algo: string;
  env: string;
  seeds: SeedSeries[];
  /** [envSteps, mean, std] over the seeds that logged that step (std 0 for one seed). */
  band: [number, number, number][];
  /** The evaluation, when the run's rows have one. */
  eval: EvalSummary | null;
}

/** Everything the page draws. */
export interface ReportData {
  title: string;
  generated: string;
  groups: RunGroup[];
}

const CHART_SPECIFIERS = ["chart.js", "npm:chart.js@4.6.1"];

async function readUrlText(url: URL): Promise<string> {
  if (url.protocol === "file:") return await Deno.readTextFile(url);
  const res = await fetch(url);
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`Cannot fetch ${url.href}: status ${res.status}`);
  }
  return await res.text();
}

/**
 * The chart.js UMD bundle's text, from the npm package (see the module doc).
 *
 * @returns JavaScript that defines the global `Chart`.
 */
export async function chartJsBundle(): Promise<string> {
  const tried: string[] = [];
  for (const spec of CHART_SPECIFIERS) {
    let entry: URL;
    try {
      entry = new URL(import.meta.resolve(spec));
    } catch (e) {
      tried.push(`${spec}: ${(e as Error).message}`);
      continue;
    }
    const umd = new URL("./chart.umd.min.js", entry);
    try {
      return await Deno.readTextFile(umd);
    } catch {
      // Not downloaded yet: importing the package makes Deno fetch it into its cache.
      try {
        await import(entry.href);
        return await Deno.readTextFile(umd);
      } catch (e) {
        tried.push(`${umd.href}: ${(e as Error).message}`);
      }
    }
  }
  throw new Error(`Cannot find the chart.js UMD bundle: ${tried.join("; ")}`);
}

/**
 * Mean and sample standard deviation across seeds at each logged step (steps where a seed has no
 * finished episode, or did not log, are left out for that seed).
 *
 * @param seeds Each seed's [envSteps, value | null] points.
 * @returns [envSteps, mean, std] sorted by steps.
 */
export function meanStdBand(seeds: readonly (readonly [number, number | null][])[]): [
  number,
  number,
  number,
][] {
  const at = new Map<number, number[]>();
  for (const s of seeds) {
    for (const [x, y] of s) {
      if (y === null || !Number.isFinite(y)) continue;
      if (!at.has(x)) at.set(x, []);
      at.get(x)!.push(y);
    }
  }
  return [...at.entries()].sort((a, b) => a[0] - b[0]).map(([x, ys]) => {
    const mean = ys.reduce((s, v) => s + v, 0) / ys.length;
    const variance = ys.length > 1
      ? ys.reduce((s, v) => s + (v - mean) ** 2, 0) / (ys.length - 1)
      : 0;
    return [x, mean, Math.sqrt(variance)];
  });
}

async function seedDirsOf(dir: string): Promise<string[]> {
  const seeds: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory && /^seed-\d+$/.test(e.name)) seeds.push(`${dir}/${e.name}`);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new TypeError(`Cannot read run "${dir}": folder not found`);
    }
    throw e;
  }
  seeds.sort((a, b) => Number(a.split("-").at(-1)) - Number(b.split("-").at(-1)));
  return seeds.length ? seeds : [dir];
}

/**
 * Loads a run folder (one seed, or `seed-<k>/` folders) into a {@linkcode RunGroup}.
 *
 * @param dir The run folder.
 * @returns Its curves and band.
 */
export async function loadRunGroup(dir: string): Promise<RunGroup> {
  const seeds: SeedSeries[] = [];
  let algo = "?", env = "?";
  let names: { name: string; reported: string } | null = null;
  for (const d of await seedDirsOf(dir)) {
    let cfg: Record<string, unknown>;
    try {
      const text = await Deno.readTextFile(`${d}/${RUN_FILES.config}`);
      cfg = (await parseYaml(text, `${d}/${RUN_FILES.config}`)) as Record<string, unknown>;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new TypeError(`Cannot read run "${d}": it has no ${RUN_FILES.config}`);
      }
      throw e;
    }
    algo = String((cfg.algo as Record<string, unknown> | undefined)?.name ?? "?");
    env = envLabel(cfg.env);
    const rows = await readMetricsRows(d);
    const evalRows = rows.filter((r) => r.eval);
    const last = evalRows.at(-1)?.eval;
    if (last) {
      names ??= { name: last.protocol, reported: last.best?.protocol ?? last.protocol };
    }
    const reported = last ? (last.best?.value ?? last.value) : NaN;
    seeds.push({
      seed: Number(cfg.seed),
      dir: d,
      returns: rows.map((r) => [r.envSteps, Number.isFinite(r.meanReturn) ? r.meanReturn : null]),
      throughput: rows.map((r) => [r.envSteps, r.stepsPerSecond]),
      evals: evalRows.map((
        r,
      ) => [r.envSteps, Number.isFinite(r.eval!.value) ? r.eval!.value : null]),
      evalFinal: Number.isFinite(reported) ? reported : null,
    });
  }
  const name = dir.replace(/\/+$/, "").split("/").at(-1) ?? dir;
  let evalSummary: EvalSummary | null = null;
  if (names) {
    const finals = seeds.map((s) => s.evalFinal).filter((v): v is number => v !== null);
    const mean = finals.reduce((a, b) => a + b, 0) / finals.length;
    const std = finals.length > 1
      ? Math.sqrt(finals.reduce((a, v) => a + (v - mean) ** 2, 0) / (finals.length - 1))
      : 0;
    evalSummary = {
      ...names,
      band: meanStdBand(seeds.map((s) => s.evals)),
      mean,
      std,
      seeds: finals.length,
    };
  }
  return {
    label: `${algo} · ${name}`,
    algo,
    env,
    seeds,
    band: meanStdBand(seeds.map((s) => s.returns)),
    eval: evalSummary,
  };
}

function escapeScript(text: string): string {
  return text.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!,
  );
}

/**
 * Renders report data as a self-contained HTML page (chart.js and the drawing code inlined).
 *
 * @param data The curves.
 * @returns The HTML text.
 */
export async function renderReport(data: ReportData): Promise<string> {
  const [chart, draw, css] = await Promise.all([
    chartJsBundle(),
    readUrlText(new URL("./report/draw.js", import.meta.url)),
    readUrlText(new URL("./report/report.css", import.meta.url)),
  ]);
  const json = JSON.stringify(data);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(data.title)}</title>
<style>${css}</style>
<script>${escapeScript(chart)}</script>
</head>
<body>
<h1>${escapeHtml(data.title)}</h1>
<p class="meta">Generated ${
    escapeHtml(data.generated)
  } · thin lines: seeds · bold: mean · band: ± std across seeds</p>
<main id="charts"></main>
<script type="application/json" id="report-data">${escapeScript(json)}</script>
<script>${escapeScript(draw)}</script>
</body>
</html>
`;
}

/**
 * Builds one comparison report across run folders and writes it to `path`.
 *
 * @param path Destination HTML file.
 * @param runDirs Run folders (each one seed, or `seed-<k>/` folders).
 * @returns The data drawn.
 */
export async function writeReport(path: string, runDirs: readonly string[]): Promise<ReportData> {
  if (runDirs.length === 0) throw new TypeError("Cannot build report: no run folders given");
  const groups = await Promise.all(runDirs.map(loadRunGroup));
  const tasks = [...new Set(groups.map((g) => g.env))];
  const data: ReportData = {
    title: `${[...new Set(groups.map((g) => g.algo))].join(" vs ")} on ${tasks.join(", ")}`,
    generated: new Date().toISOString().slice(0, 19).replace("T", " ") + " UTC",
    groups,
  };
  const html = await renderReport(data);
  await writeFileAtomic(path, new TextEncoder().encode(html));
  return data;
}

/** Usage of `deno task report`. */
export const REPORT_USAGE = `Usage: deno task report <run dir> [run dir …] [--out report.html]

Builds one HTML report comparing runs (each a runs/<name> folder, with or without seed-<k>/
folders). Default output: <run dir>/report.html for one run, ./report.html for several.`;

async function reportMain(argv: readonly string[]): Promise<number> {
  try {
    const dirs: string[] = [];
    let out: string | null = null;
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i];
      if (a === "--help" || a === "-h") {
        console.log(REPORT_USAGE);
        return 0;
      } else if (a === "--out") out = argv[++i] ?? null;
      else if (a.startsWith("--out=")) out = a.slice(6);
      else if (a.startsWith("--")) {
        throw new TypeError(`Cannot parse arguments: unknown option "${a}"`);
      } else dirs.push(a.replace(/\/+$/, ""));
    }
    if (dirs.length === 0) {
      throw new TypeError(`Cannot build report: no run folders given\n${REPORT_USAGE}`);
    }
    const path = out ?? (dirs.length === 1 ? `${dirs[0]}/${RUN_FILES.report}` : "report.html");
    const data = await writeReport(path, dirs);
    console.log(
      `report: ${path} (${data.groups.length} runs, ${
        data.groups.reduce((s, g) => s + g.seeds.length, 0)
      } seeds)`,
    );
    return 0;
  } catch (e) {
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await reportMain(Deno.args));
