/**
 * The HTML report of one or several runs (`deno task report`, and `report.html` at the end of a
 * run). Per task, one panel per metric group the runs logged: mean episode return, the evaluation
 * under the protocol's name (with the paper's number as a reference line where the run's preset
 * states one), episode length, return per agent, losses, entropy, gradient norm, other scalars;
 * then throughput. A run with one seed is drawn as its own bold line; several seeds as thin
 * per-seed lines, the mean, and a 95% stratified bootstrap band (rliable; app/curves.ts). Tables:
 * the runs (config, device, preset, expected result), final performance (IQM with its interval)
 * and the probability of improvement between algorithms (app/report_tables.ts). Intervals are
 * deterministic given the bootstrap seed. Drawn with chart.js; the page is self-contained and
 * opens offline.
 *
 * How chart.js gets into the page: at build time the `chart.js` import-map entry is resolved with
 * `import.meta.resolve` to the npm package in Deno's cache (`…/chart.js/<version>/dist/chart.js`);
 * its sibling UMD bundle `dist/chart.umd.min.js` is read and inlined in a `<script>`. The drawing
 * code is `app/report/draw.js`, inlined the same way; the data is inlined as JSON.
 *
 * ```sh
 * deno task report runs/seac-a                     # runs/seac-a/report.html
 * deno task report runs/seac-a runs/iac-a          # runs/report-<time>.html
 * deno task report sweeps/lr --out lr.html         # every run of a sweep (or a folder of runs)
 * ```
 *
 * @module
 */
import { BOOTSTRAP_DEFAULTS } from "./bootstrap.ts";
import { explainError } from "./errors.ts";
import {
  buildPanels,
  meanBand,
  type Panel,
  type ReportBootstrap,
  type RunGroup,
  type Table,
} from "./report_panels.ts";
import { expectedFor } from "./report_reference.ts";
import { findRunDirs, readSeed, seedDirsOf } from "./report_runs.ts";
import { finalTable, improvementTable, runsTable } from "./report_tables.ts";
import { envLabel, RUN_FILES, writeFileAtomic } from "./run_files.ts";

export type {
  EvalSummary,
  Panel,
  ReportBootstrap,
  RunGroup,
  Series,
  Table,
} from "./report_panels.ts";
export type { SeedSeries } from "./report_runs.ts";

/** Everything the page draws. */
export interface ReportData {
  title: string;
  /** What the lines and bands are, as drawn. */
  subtitle: string;
  generated: string;
  bootstrap: ReportBootstrap;
  groups: RunGroup[];
  panels: Panel[];
  tables: Table[];
}

/** Options of {@linkcode buildReport} and {@linkcode writeReport}. */
export interface ReportOptions {
  /** Seed of the bootstrap resampling (default 0). */
  bootstrapSeed?: number;
  /** Bootstrap resamples (default 2000). */
  reps?: number;
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

/** Fraction of a seed's last rows whose mean return is its final score without evaluation. */
const FINAL_FRACTION = 0.1;

function lastMean(points: readonly [number, number | null][]): number {
  const n = Math.max(1, Math.ceil(points.length * FINAL_FRACTION));
  const tail = points.slice(-n).map((p) => p[1]).filter((v): v is number => v !== null);
  return tail.length ? tail.reduce((a, b) => a + b, 0) / tail.length : NaN;
}

/**
 * Loads a run folder (one seed, or `seed-<k>/` folders) into a {@linkcode RunGroup}: curves,
 * evaluation, config, device, the matching preset's expected result and each seed's final score.
 *
 * @param dir The run folder.
 * @param options Bootstrap seed and resamples of the bands.
 * @returns The run.
 */
export async function loadRunGroup(dir: string, options: ReportOptions = {}): Promise<RunGroup> {
  const bootstrap = bootstrapOf(options);
  const seeds = await Promise.all((await seedDirsOf(dir)).map(readSeed));
  const first = seeds[0];
  const algo = String((first.config.algo as Record<string, unknown> | undefined)?.name ?? "?");
  const names = seeds.find((s) => s.evalNames)?.evalNames ?? null;
  const series = seeds.map((s) => s.series);
  let evalSummary: RunGroup["eval"] = null;
  if (names) {
    const finals = series.map((s) => s.evalFinal).filter((v): v is number => v !== null);
    const mean = finals.reduce((a, b) => a + b, 0) / finals.length;
    const std = finals.length > 1
      ? Math.sqrt(finals.reduce((a, v) => a + (v - mean) ** 2, 0) / (finals.length - 1))
      : 0;
    evalSummary = {
      ...names,
      band: meanBand(series.map((s) => s.evals), bootstrap),
      mean,
      std,
      seeds: finals.length,
    };
  }
  const name = dir.replace(/\/+$/, "").split("/").at(-1) ?? dir;
  return {
    label: `${algo} · ${name}`,
    algo,
    env: envLabel(first.config.env),
    dir,
    seeds: series,
    band: meanBand(series.map((s) => s.returns), bootstrap),
    eval: evalSummary,
    config: first.config,
    device: seeds.find((s) => s.device)?.device ?? null,
    expected: await expectedFor(first.config),
    final: names ? { name: names.reported, values: series.map((s) => s.evalFinal ?? NaN) } : {
      name: "final return (mean of the last 10% of rows)",
      values: series.map((s) => lastMean(s.returns)),
    },
  };
}

function bootstrapOf(options: ReportOptions): ReportBootstrap {
  return {
    seed: options.bootstrapSeed ?? BOOTSTRAP_DEFAULTS.seed,
    reps: options.reps ?? BOOTSTRAP_DEFAULTS.reps,
    confidence: BOOTSTRAP_DEFAULTS.confidence,
  };
}

/** The subtitle saying what is drawn (only what is there). */
function subtitleOf(groups: readonly RunGroup[]): string {
  const single = groups.filter((g) => g.seeds.length === 1).length;
  const multi = groups.length - single;
  const parts: string[] = [];
  if (single > 0) {
    parts.push(`bold line: ${multi > 0 ? "a run with one seed" : "each run (one seed)"}`);
  }
  if (multi > 0) {
    parts.push(
      "thin lines: seeds",
      "bold line: mean over seeds",
      "band: 95% stratified bootstrap interval of the mean",
    );
  }
  return parts.join(" · ");
}

/**
 * Builds the report data of run folders (nothing written).
 *
 * @param runDirs Run folders (each one seed, or `seed-<k>/` folders).
 * @param options Bootstrap seed and resamples.
 * @returns The data the page draws.
 */
export async function buildReport(
  runDirs: readonly string[],
  options: ReportOptions = {},
): Promise<ReportData> {
  if (runDirs.length === 0) throw new TypeError("Cannot build report: no run folders given");
  const bootstrap = bootstrapOf(options);
  const groups = await Promise.all(runDirs.map((d) => loadRunGroup(d, options)));
  const tasks = [...new Set(groups.map((g) => g.env))];
  const tables = [runsTable(groups), finalTable(groups, bootstrap)];
  const poi = improvementTable(groups, bootstrap);
  if (poi) tables.push(poi);
  const panels = buildPanels(groups);
  const subtitle = subtitleOf(groups) +
    (panels.some((p) => p.references.length > 0) ? " · dashed: the paper's number" : "");
  return {
    title: `${[...new Set(groups.map((g) => g.algo))].join(" vs ")} on ${tasks.join(", ")}`,
    subtitle,
    generated: new Date().toISOString().slice(0, 19).replace("T", " ") + " UTC",
    bootstrap,
    groups,
    panels,
    tables,
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
<p class="meta">Generated ${escapeHtml(data.generated)} · ${escapeHtml(data.subtitle)}</p>
<main id="charts"></main>
<script type="application/json" id="report-data">${escapeScript(json)}</script>
<script>${escapeScript(draw)}</script>
</body>
</html>
`;
}

/**
 * Builds one report across run folders and writes it to `path`.
 *
 * @param path Destination HTML file.
 * @param runDirs Run folders (each one seed, or `seed-<k>/` folders).
 * @param options Bootstrap seed and resamples.
 * @returns The data drawn.
 */
export async function writeReport(
  path: string,
  runDirs: readonly string[],
  options: ReportOptions = {},
): Promise<ReportData> {
  const data = await buildReport(runDirs, options);
  const html = await renderReport(data);
  await writeFileAtomic(path, new TextEncoder().encode(html));
  return data;
}

/**
 * Where `deno task report` writes when `--out` is not given: `<run>/report.html` for one run
 * folder given as is; else `<root>/report-<time>.html` (root: `runs`).
 *
 * @param given The paths given.
 * @param runDirs The run folders found under them.
 * @param options `root` (default "runs") and `now` (default the current time).
 * @returns The path.
 */
export function defaultReportPath(
  given: readonly string[],
  runDirs: readonly string[],
  options: { root?: string; now?: Date } = {},
): string {
  if (given.length === 1 && runDirs.length === 1 && runDirs[0] === given[0]) {
    return `${runDirs[0]}/${RUN_FILES.report}`;
  }
  const stamp = (options.now ?? new Date()).toISOString().slice(0, 19).replace(/[-:]/g, "")
    .replace("T", "-");
  return `${options.root ?? "runs"}/report-${stamp}.html`;
}

/** Usage of `deno task report`. */
export const REPORT_USAGE =
  `Usage: deno task report <run dir | sweep dir | folder of runs> [...] [options]

Builds one HTML report comparing runs (each a runs/<name> folder, with or without seed-<k>/
folders; a sweep folder or any folder of run folders gives every run in it).

Options:
  --out FILE             where to write (default: <run dir>/report.html for one run folder,
                         else runs/report-<time>.html)
  --bootstrap-seed N     seed of the bootstrap intervals (default 0: the same page every time)
  --reps N               bootstrap resamples (default 2000)`;

/**
 * Runs `deno task report`.
 *
 * @param argv Arguments.
 * @returns The exit code.
 */
export async function reportMain(argv: readonly string[]): Promise<number> {
  try {
    const paths: string[] = [];
    let out: string | null = null;
    const options: ReportOptions = {};
    const intArg = (flag: string, v: string | undefined, min: number) => {
      const n = Number(v);
      if (v === undefined || !Number.isInteger(n) || n < min) {
        throw new RangeError(
          `Cannot parse arguments: ${flag} must be an integer >= ${min}, got ${v ?? "nothing"}`,
        );
      }
      return n;
    };
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i];
      const [flag, inline] = a.startsWith("--") && a.includes("=")
        ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]
        : [a, undefined];
      const value = () => inline ?? argv[++i];
      if (flag === "--help" || flag === "-h") {
        console.log(REPORT_USAGE);
        return 0;
      } else if (flag === "--out") {
        out = value() ?? null;
        if (!out) throw new TypeError("Cannot parse arguments: --out needs a file");
      } else if (flag === "--bootstrap-seed") options.bootstrapSeed = intArg(flag, value(), 0);
      else if (flag === "--reps") options.reps = intArg(flag, value(), 1);
      else if (flag.startsWith("--")) {
        throw new TypeError(`Cannot parse arguments: unknown option "${a}" (see --help)`);
      } else paths.push(a.replace(/\/+$/, "") || "/");
    }
    if (paths.length === 0) {
      throw new TypeError(`Cannot build report: no run folders given\n${REPORT_USAGE}`);
    }
    const dirs = await findRunDirs(paths);
    const path = out ?? defaultReportPath(paths, dirs);
    const parent = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
    if (parent) await Deno.mkdir(parent, { recursive: true });
    const data = await writeReport(path, dirs, options);
    console.log(
      `report: ${path} (${data.groups.length} runs, ${
        data.groups.reduce((s, g) => s + g.seeds.length, 0)
      } seeds)`,
    );
    return 0;
  } catch (e) {
    console.error(`error: ${explainError(e, null)}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await reportMain(Deno.args));
