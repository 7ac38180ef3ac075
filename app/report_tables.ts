/**
 * The report's tables: the runs (device, seeds, the preset and its expected result, every config
 * setting), final performance per run (mean ± std, interquartile mean with its stratified
 * bootstrap interval, the paper's number) and the probability of improvement between compared
 * algorithms (rliable's definitions: app/stats.ts, docs/statistics.md).
 *
 * @module
 */
import type { ReportBootstrap, RunGroup, Table } from "./report_panels.ts";
import { bootstrapCi, iqm, probabilityOfImprovementCi } from "./stats.ts";

function fmt(v: number): string {
  if (!Number.isFinite(v)) return "–";
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e5 || a < 1e-3)
    ? v.toExponential(2)
    : Number(v.toPrecision(4)).toString();
}

function flatten(obj: Record<string, unknown>, prefix = ""): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v === "object" && v !== null && !Array.isArray(v)) {
      out.push(...flatten(v as Record<string, unknown>, `${prefix}${k}.`));
    } else out.push([`${prefix}${k}`, Array.isArray(v) ? `[${v.join(", ")}]` : String(v)]);
  }
  return out;
}

/**
 * The runs table: one column per run; rows for the device, seeds, preset and expected result,
 * then every config setting (seed and name left out).
 *
 * @param groups The runs.
 * @returns The table.
 */
export function runsTable(groups: readonly RunGroup[]): Table {
  const configs = groups.map((g) => new Map(flatten(g.config)));
  const keys = [...new Set(configs.flatMap((c) => [...c.keys()]))]
    .filter((k) => k !== "seed" && k !== "name");
  const rows: string[][] = [
    ["device", ...groups.map((g) => g.device ?? "not recorded in the run folder")],
    ["seeds", ...groups.map((g) => g.seeds.map((s) => s.seed).join(", "))],
    ["folder", ...groups.map((g) => g.dir)],
    ["preset", ...groups.map((g) => g.expected?.preset ?? "–")],
    ["expected (paper)", ...groups.map((g) => g.expected?.text ?? "–")],
    ...keys.map((k) => [k, ...configs.map((c) => c.get(k) ?? "–")]),
  ];
  return {
    title: "Runs",
    note:
      "Config as run (config.yaml of the first seed); the preset is the one whose settings the run has.",
    columns: ["", ...groups.map((g) => g.label)],
    rows,
  };
}

/**
 * Final performance per run: each seed's final score (the reported evaluation number when the
 * run evaluates, else the mean return over the last 10% of its rows), mean ± std, IQM with its
 * stratified bootstrap interval, and the paper's number.
 *
 * @param groups The runs.
 * @param bootstrap Resamples, coverage and seed.
 * @returns The table.
 */
export function finalTable(groups: readonly RunGroup[], bootstrap: ReportBootstrap): Table {
  const rows = groups.map((g) => {
    const v = g.final.values.filter(Number.isFinite);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const std = v.length > 1
      ? Math.sqrt(v.reduce((a, x) => a + (x - mean) ** 2, 0) / (v.length - 1))
      : NaN;
    let interval = "–";
    if (v.length > 1) {
      const ci = bootstrapCi([v], { ...bootstrap, statistic: iqm });
      interval = `${fmt(ci.estimate)} [${fmt(ci.lower)}, ${fmt(ci.upper)}]`;
    } else if (v.length === 1) interval = `${fmt(v[0])} (one seed: no interval)`;
    const paper = g.expected?.value != null
      ? `${g.expected.value}${g.expected.std != null ? ` ± ${g.expected.std}` : ""}`
      : "–";
    return [
      g.label,
      g.env,
      `${v.length}/${g.seeds.length}`,
      g.final.name,
      v.length ? `${fmt(mean)}${v.length > 1 ? ` ± ${fmt(std)}` : ""}` : "–",
      interval,
      paper,
    ];
  });
  return {
    title: "Final performance",
    note: `IQM: interquartile mean over seeds; interval: ${
      Math.round(bootstrap.confidence * 100)
    }% stratified percentile bootstrap (${bootstrap.reps} resamples, seed ${bootstrap.seed}).`,
    columns: ["run", "task", "seeds", "score", "mean ± std", "IQM [95% CI]", "paper"],
    rows,
  };
}

/**
 * Probability of improvement P(X > Y) between every two algorithms compared on at least one
 * common task (scores: the final scores of all their seeds on each task, pooled over runs), with
 * its bootstrap interval; null when fewer than two algorithms share a task.
 *
 * @param groups The runs.
 * @param bootstrap Resamples, coverage and seed.
 * @returns The table, or null.
 */
export function improvementTable(
  groups: readonly RunGroup[],
  bootstrap: ReportBootstrap,
): Table | null {
  const scores = new Map<string, Map<string, number[]>>();
  for (const g of groups) {
    const byTask = scores.get(g.algo) ?? new Map<string, number[]>();
    byTask.set(g.env, [...(byTask.get(g.env) ?? []), ...g.final.values.filter(Number.isFinite)]);
    scores.set(g.algo, byTask);
  }
  const algos = [...scores.keys()];
  const rows: string[][] = [];
  for (let i = 0; i < algos.length; i++) {
    for (let j = i + 1; j < algos.length; j++) {
      const [x, y] = [scores.get(algos[i])!, scores.get(algos[j])!];
      const tasks = [...x.keys()].filter((t) => y.has(t) && x.get(t)!.length && y.get(t)!.length);
      if (tasks.length === 0) continue;
      const ci = probabilityOfImprovementCi(
        tasks.map((t) => x.get(t)!),
        tasks.map((t) => y.get(t)!),
        bootstrap,
      );
      rows.push([
        `P(${algos[i]} > ${algos[j]})`,
        tasks.join(", "),
        `${tasks.map((t) => x.get(t)!.length).join("+")} vs ${
          tasks.map((t) => y.get(t)!.length).join("+")
        }`,
        `${ci.estimate.toFixed(3)} [${ci.lower.toFixed(3)}, ${ci.upper.toFixed(3)}]`,
      ]);
    }
  }
  if (rows.length === 0) return null;
  return {
    title: "Probability of improvement",
    note: "P(X > Y): chance a random seed of X scores above a random seed of Y on the same task " +
      "(ties count ½), averaged over common tasks; interval: stratified bootstrap, X and Y " +
      "resampled independently. Above 0.5 favours X; an interval that contains 0.5 does not " +
      "separate them.",
    columns: ["comparison", "tasks", "seeds", "P [95% CI]"],
    rows,
  };
}
