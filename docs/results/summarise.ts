/**
 * The final-performance table of a reduced-scale reproduction, as Markdown: per method the seeds'
 * final scores, mean ± std (the papers' statistic), the interquartile mean with its 95 % stratified
 * bootstrap CI, and the probability of improvement of every method over every later one with its
 * CI (rliable's definitions, app/stats.ts; docs/statistics.md). Deterministic (bootstrap seed 0,
 * 2000 resamples).
 *
 *     deno run -R docs/results/summarise.ts SCORE LABEL=RUN_DIR …
 *
 * SCORE: `best` (the last row's `eval.best.value`: the best model's evaluation, SEAC's Table 1),
 * `last-eval` (the last row's `eval.value`) or `last-eval@N` (the mean of the last N evaluations).
 * RUN_DIR is a run folder whose `seed-<k>/` folders are the seeds.
 *
 * @module
 */
import { seedDirsOf } from "../../app/report_runs.ts";
import { readMetricsRows } from "../../app/run_files.ts";
import { aggregateIntervals, probabilityOfImprovementCi } from "../../app/stats.ts";

const [score, ...specs] = Deno.args;
if (!/^(best|last-eval(@\d+)?)$/.test(score ?? "") || specs.length === 0) {
  console.error("usage: summarise.ts best|last-eval[@N] LABEL=RUN_DIR …");
  Deno.exit(2);
}

async function seedScores(dir: string): Promise<number[]> {
  return await Promise.all((await seedDirsOf(dir)).map(async (s) => {
    const evals = (await readMetricsRows(s)).filter((r) => r.eval);
    if (evals.length === 0) throw new Error(`${s}: no evaluation rows`);
    if (score === "best") return evals.at(-1)!.eval!.best!.value;
    const n = Number(score.split("@")[1] ?? 1);
    const last = evals.slice(-n).map((r) => r.eval!.value);
    return last.reduce((a, b) => a + b, 0) / last.length;
  }));
}

const methods = await Promise.all(specs.map(async (spec) => {
  const [label, dir] = spec.split("=");
  return { label, scores: await seedScores(dir) };
}));
const f = (x: number) => x.toFixed(3);
console.log(`| method | seeds | scores | mean ± std | IQM [95 % CI] |`);
console.log(`| --- | --- | --- | --- | --- |`);
for (const { label, scores } of methods) {
  const n = scores.length, mean = scores.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(scores.reduce((s, x) => s + (x - mean) ** 2, 0) / Math.max(1, n - 1));
  const { iqm } = aggregateIntervals([scores]);
  console.log(
    `| ${label} | ${n} | ${scores.map(f).join(", ")} | ${f(mean)} ± ${f(std)} | ${
      f(iqm.estimate)
    } [${f(iqm.lower)}, ${f(iqm.upper)}] |`,
  );
}
console.log(`\n| comparison | P(X > Y) [95 % CI] |`);
console.log(`| --- | --- |`);
for (let i = 0; i < methods.length; i++) {
  for (let j = i + 1; j < methods.length; j++) {
    const p = probabilityOfImprovementCi([methods[i].scores], [methods[j].scores]);
    console.log(
      `| ${methods[i].label} > ${methods[j].label} | ${f(p.estimate)} [${f(p.lower)}, ${
        f(p.upper)
      }] |`,
    );
  }
}
