/**
 * What the report draws, computed in TypeScript so tests can check it without a browser: one
 * panel per metric group and task (return, evaluation, episode length, return per agent, losses,
 * entropy, gradient norm, other scalars; then throughput), each a list of series with a role
 * (a lone seed's `main` line; per-seed `seed` lines, the `mean` and its `band` for several
 * seeds), reference lines from the paper; and the tables (runs with config and device, final
 * performance with IQM and its interval, probability of improvement: app/report_tables.ts).
 * Bands are rliable's stratified bootstrap (app/curves.ts), deterministic given the seed.
 *
 * @module
 */
import { curveBand } from "./curves.ts";
import type { Expected } from "./report_reference.ts";
import { type Points, scalarGroup, type SeedSeries } from "./report_runs.ts";

/** Bootstrap settings of the report's intervals. */
export interface ReportBootstrap {
  seed: number;
  reps: number;
  confidence: number;
}

/** The seeds of one run folder (one algorithm on one task) and what is known about it. */
export interface RunGroup {
  label: string;
  algo: string;
  env: string;
  dir: string;
  seeds: SeedSeries[];
  /** Mean return over seeds with its bootstrap interval: [envSteps, mean, lower, upper]. */
  band: [number, number, number, number][];
  /** The evaluation, when the rows carry one. */
  eval: EvalSummary | null;
  /** The first seed's config (seeds differ only in `seed`). */
  config: Record<string, unknown>;
  /** The adapter it ran on, when the run folder records it. */
  device: string | null;
  /** The matching preset's expected result, if any. */
  expected: Expected | null;
  /** Final score of each seed (NaN where a seed has none) and what it is. */
  final: { name: string; values: number[] };
}

/** The evaluation of a run group, under the protocol's names. */
export interface EvalSummary {
  /** Name of one evaluation's value, e.g. "team return (20 greedy episodes)". */
  name: string;
  /** Name of the reported number, e.g. "final evaluation return (best model, …)". */
  reported: string;
  /** [envSteps, mean, lower, upper] of the evaluations over seeds (empty for one seed). */
  band: [number, number, number, number][];
  /** Mean and sample std of the reported number over the seeds that have one. */
  mean: number;
  std: number;
  seeds: number;
}

/** One line (or band) of a panel. */
export interface Series {
  label: string;
  /** Palette index. */
  color: number;
  /** main: a lone seed's curve; seed: one of several seeds; mean: their mean; band: its CI. */
  role: "main" | "seed" | "mean" | "band";
  points: Points;
  /** For `band`: the upper edge (`points` is the lower edge). */
  upper?: Points;
  /** Dash pattern index (0 solid), telling apart curves of one run that share its colour. */
  dash?: number;
}

/** A horizontal reference line. */
export interface Reference {
  value: number;
  std: number | null;
  label: string;
  color: number;
}

/** One chart. */
export interface Panel {
  title: string;
  yTitle: string;
  series: Series[];
  references: Reference[];
}

/** One table. */
export interface Table {
  title: string;
  note: string;
  columns: string[];
  rows: string[][];
}

/** Mean over seeds at the steps every seed logged (no interval). */
function meanCurve(curves: readonly Points[]): Points {
  const at = new Map<number, number[]>();
  for (const c of curves) {
    for (const [x, y] of c) if (y !== null) at.set(x, [...(at.get(x) ?? []), y]);
  }
  return [...at.entries()].sort((a, b) => a[0] - b[0])
    .map(([x, ys]) => [x, ys.reduce((s, v) => s + v, 0) / ys.length]);
}

/**
 * Mean over seeds with a stratified bootstrap interval (app/curves.ts `curveBand`), on the steps
 * every seed covers; empty for fewer than two seeds with values, or curves sharing no steps.
 *
 * @param curves One curve per seed.
 * @param bootstrap Resamples, coverage and seed.
 * @returns [envSteps, mean, lower, upper].
 */
export function meanBand(
  curves: readonly Points[],
  bootstrap: ReportBootstrap,
): [number, number, number, number][] {
  const usable = curves.filter((c) => c.some(([, y]) => y !== null && Number.isFinite(y)));
  if (usable.length < 2) return [];
  try {
    return curveBand([usable], bootstrap).map((p) => [p.step, p.estimate, p.lower, p.upper]);
  } catch {
    return []; // seeds that share no steps
  }
}

/** The series of one metric of the groups: main line, or seeds + mean + band. */
function curveSeries(
  groups: readonly { g: RunGroup; color: number }[],
  pick: (s: SeedSeries) => Points,
  bandOf: (g: RunGroup) => [number, number, number, number][],
): Series[] {
  const out: Series[] = [];
  for (const { g, color } of groups) {
    if (g.seeds.length === 1) {
      const s = g.seeds[0];
      out.push({ label: `${g.label} (seed ${s.seed})`, color, role: "main", points: pick(s) });
      continue;
    }
    const band = bandOf(g);
    if (band.length > 0) {
      out.push({
        label: `${g.label} 95% CI`,
        color,
        role: "band",
        points: band.map((b) => [b[0], b[2]]),
        upper: band.map((b) => [b[0], b[3]]),
      });
    }
    for (const s of g.seeds) {
      out.push({ label: `${g.label} seed ${s.seed}`, color, role: "seed", points: pick(s) });
    }
    out.push({
      label: `${g.label} (mean of ${g.seeds.length} seeds)`,
      color,
      role: "mean",
      points: band.length > 0 ? band.map((b) => [b[0], b[1]]) : meanCurve(g.seeds.map(pick)),
    });
  }
  return out;
}

/** Series of several named curves per group (agents, scalars): a lone seed's, or the mean's. */
function namedSeries(
  groups: readonly { g: RunGroup; color: number }[],
  names: readonly string[],
  pick: (s: SeedSeries, name: string) => Points | undefined,
  labelOf: (name: string) => string,
): Series[] {
  const out: Series[] = [];
  for (const { g, color } of groups) {
    for (const [i, name] of names.entries()) {
      const curves = g.seeds.map((s) => pick(s, name)).filter((c): c is Points => !!c);
      if (curves.length === 0) continue;
      const one = g.seeds.length === 1;
      out.push({
        label: `${groups.length > 1 ? `${g.label} · ` : ""}${labelOf(name)}${
          one ? "" : ` (mean of ${curves.length} seeds)`
        }`,
        color: groups.length > 1 ? color : i,
        dash: groups.length > 1 ? i : 0,
        role: one ? "main" : "mean",
        points: one ? curves[0] : meanCurve(curves),
      });
    }
  }
  return out;
}

function hasValues(series: readonly Series[]): boolean {
  return series.some((s) => s.points.some(([, y]) => y !== null));
}

/**
 * The panels of a report: per task, every metric group some run logged; then throughput.
 *
 * @param groups The runs, in report order (their index is their colour).
 * @returns The panels, empty ones left out.
 */
export function buildPanels(groups: readonly RunGroup[]): Panel[] {
  const panels: Panel[] = [];
  const tasks = [...new Set(groups.map((g) => g.env))];
  const add = (title: string, yTitle: string, series: Series[], references: Reference[] = []) => {
    if (hasValues(series)) panels.push({ title, yTitle, series, references });
  };
  for (const task of tasks) {
    const here = groups.map((g, color) => ({ g, color })).filter(({ g }) => g.env === task);
    const suffix = ` · ${task}`;
    add(
      "Mean episode return" + suffix,
      "mean return per agent",
      curveSeries(here, (s) => s.returns, (g) => g.band),
    );
    const evaluated = here.filter(({ g }) => g.eval);
    if (evaluated.length > 0) {
      const name = evaluated[0].g.eval!.name;
      const references = evaluated.flatMap(({ g, color }) =>
        g.expected?.value !== null && g.expected?.value !== undefined &&
          g.expected.on === "evaluation"
          ? [{
            value: g.expected.value,
            std: g.expected.std,
            label: `paper: ${g.expected.value}${
              g.expected.std !== null ? ` ± ${g.expected.std}` : ""
            } (${g.expected.preset})`,
            color,
          }]
          : []
      );
      const unique = references.filter((r, i) =>
        references.findIndex((q) => q.value === r.value && q.label === r.label) === i
      );
      add(
        `Evaluation · ${name}${suffix}`,
        name,
        curveSeries(evaluated, (s) => s.evals, (g) => g.eval!.band),
        unique,
      );
    }
    add(
      "Episode length" + suffix,
      "mean episode length [steps]",
      curveSeries(here, (s) => s.lengths, () => []),
    );
    const agents = Math.max(0, ...here.flatMap(({ g }) => g.seeds.map((s) => s.perAgent.length)));
    if (agents > 1) {
      const names = Array.from({ length: agents }, (_, a) => String(a));
      add(
        "Return per agent" + suffix,
        "mean return",
        namedSeries(here, names, (s, a) => s.perAgent[Number(a)], (a) => `agent ${a}`),
      );
    }
    const scalars = [
      ...new Set(here.flatMap(({ g }) => g.seeds.flatMap((s) => Object.keys(s.scalars)))),
    ];
    for (const group of ["Losses", "Entropy", "Gradient norm", "Other metrics"]) {
      const names = scalars.filter((n) => scalarGroup(n) === group);
      if (names.length === 0) continue;
      add(
        group + suffix,
        group === "Other metrics" ? "value" : group.toLowerCase(),
        namedSeries(here, names, (s, n) => s.scalars[n], (n) => n),
      );
    }
  }
  const through: Series[] = groups.flatMap((g, color) =>
    g.seeds.map((s): Series => ({
      label: `${g.label} seed ${s.seed}`,
      color,
      role: "main",
      points: s.throughput,
    }))
  );
  add("Throughput", "env steps / s", through);
  return panels;
}
