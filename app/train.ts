/**
 * `train(config)`: engine → env → trainer, then the loop — `trainer.run(k)` between log points,
 * one metrics read per interval, outputs and checkpoints — for one or several seeds.
 *
 * Outputs of a run in `<root>/<name>/` (one seed), or in `<root>/<name>/seed-<seed>/` per seed with
 * `--seeds N`: `config.yaml` (effective config), `metrics.jsonl` and `metrics.csv` (one row per
 * log interval and per evaluation point, the evaluation under the protocol's name),
 * `checkpoint.safetensors` (latest; written atomically), `best.safetensors` (the best model so
 * far, when the evaluation protocol has `best`; written atomically when the evaluation value
 * improves), `metadata.json` (the adapter of the latest session), and `report.html` in
 * `<root>/<name>/`.
 *
 * @module
 */
import { createEngine, type Engine } from "../engine/device.ts";
import { readCheckpoint, restoreCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import { restoreSeedCheckpoints, saveSeedCheckpoints } from "./checkpoint_seeds.ts";
import { encodeCopySeed } from "../algorithms/seeds.ts";
import type { Trainer } from "../algorithms/trainer.ts";
import { configToYaml, type ExperimentConfig, validateConfig } from "./config.ts";
import { appendRow, type EvalColumns, writeMetricsFiles } from "./metrics_files.ts";
import { createProgress, guardedWriter, type Progress } from "./progress.ts";
import { writeReport } from "./report.ts";
import { envLabel, exists, type MetricsRow, readMetricsRows, RUN_FILES } from "./run_files.ts";
import {
  buildEvaluation,
  buildTrainer,
  NonFiniteError,
  planEvaluation,
  trainLoop,
} from "./train_loop.ts";
import { buildSeedBatch, groupSeeds, resumeJobs, type SeedJob } from "./train_jobs.ts";

export type { MetricsRow } from "./run_files.ts";
export { readMetricsRows, rowFromJson, rowToJson, RUN_FILES } from "./run_files.ts";
export { buildSeedBatch } from "./train_jobs.ts";

/** Options of {@linkcode train}. */
export interface TrainOptions {
  /** Folder that holds run folders. Default "runs". */
  root?: string;
  /** Number of seeds (config.seed, config.seed + 1, …), run one after the other. Default 1. */
  seeds?: number;
  /** Continue the run in this folder from its last checkpoint (the config comes from it). */
  resume?: string;
  /** Engine to use (default: a fresh one per seed, destroyed at the end). */
  engine?: Engine;
  /** "auto" (bar on a terminal, lines otherwise), "live", "plain" or "off". Default "auto". */
  progress?: "auto" | "live" | "plain" | "off";
  /** Where progress and messages go. Default stdout. */
  write?: (text: string) => void;
  /** Stop after the first log point at or past this many env steps (as if killed there). */
  stopAt?: number;
  /** When aborted, stop at the next log point after writing a checkpoint (Ctrl-C in the CLI). */
  signal?: AbortSignal;
  /** Write report.html at the end. Default true. */
  report?: boolean;
  /** With `resume`: `totalSteps` overrides that extend the run (a finished one too). */
  overrides?: readonly (readonly [string, string])[];
}

/** What one seed produced. */
export interface SeedResult {
  dir: string;
  config: ExperimentConfig;
  rows: MetricsRow[];
  /** False when stopped by `stopAt` before `totalSteps`. */
  finished: boolean;
}

/** What {@linkcode train} produced. */
export interface TrainResult {
  /** The run folder. */
  dir: string;
  seeds: SeedResult[];
  /** Path of report.html, or null if not written. */
  report: string | null;
}

function timestamp(d = new Date()): string {
  return d.toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "-");
}

function progressFor(
  options: TrainOptions,
  total: number,
  label: string,
  warmupSteps: number,
): Progress | null {
  const mode = options.progress ?? "auto";
  if (mode === "off") return null;
  return createProgress({
    total,
    label,
    live: mode === "auto" ? undefined : mode === "live",
    write: options.write,
    warmupSteps,
  });
}

/** Env steps before a replay-based learner starts learning (its `learningStarts`), else 0. */
function warmupOf(config: ExperimentConfig): number {
  const v = (config.algo as unknown as Record<string, unknown>).learningStarts;
  return typeof v === "number" && v > 0 ? v : 0;
}

/**
 * The trainer of a group of seed jobs: one seed, or S seeds batched in one trainer
 * (`createSeeds`) with a one-seed trainer (`shadow`) that evaluates and shapes each seed's
 * checkpoint (docs/statistics.md §8).
 */
async function buildGroup(engine: Engine, jobs: readonly SeedJob[]) {
  const config = jobs[0].config;
  const trainer = jobs.length === 1
    ? await buildTrainer(engine, config)
    : await buildSeedBatch(engine, config, jobs.length);
  const shadow = jobs.length === 1 ? trainer : await buildTrainer(engine, config);
  const evaluations = await Promise.all(
    jobs.map((j) => buildEvaluation(engine, shadow, j.config)),
  );
  return { trainer, shadow, evaluations };
}

async function runGroup(jobs: readonly SeedJob[], options: TrainOptions): Promise<SeedResult[]> {
  const config = jobs[0].config, S = jobs.length;
  const label = S === 1 ? jobs[0].label : `${config.name} (${S} seeds batched)`;
  const progress = progressFor(options, config.totalSteps, label, warmupOf(config));
  const tBuild = performance.now();
  progress?.status(`building ${config.algo.name} on ${envLabel(config.env)} (compiling kernels) …`);
  const engine = options.engine ?? await createEngine();
  try {
    const { trainer, shadow, evaluations } = await buildGroup(engine, jobs);
    const plan = planEvaluation(config, trainer.stepsPerIteration);
    const evalColumns: EvalColumns | null =
      plan.itersPerEval > 0 || plan.protocol.runner === "trainer"
        ? { value: plan.names.value, best: config.eval.best ? plan.names.best : null }
        : null;
    const rows: MetricsRow[][] = jobs.map(() => []);
    const ckptPaths = jobs.map((j) => `${j.dir}/${RUN_FILES.checkpoint}`);
    const resumed = jobs[0].resume && await exists(ckptPaths[0]);
    if (resumed) {
      const checkpoints = await Promise.all(ckptPaths.map(readCheckpoint));
      if (S === 1) {
        restoreCheckpoint(engine, {
          trainer,
          checkpoint: checkpoints[0],
          evaluation: evaluations[0],
        });
      } else {
        restoreSeedCheckpoints(engine, {
          batch: trainer,
          shadow,
          seeds: checkpoints.map((checkpoint, k) => ({ checkpoint, evaluation: evaluations[k] })),
        });
      }
      for (const [k, job] of jobs.entries()) {
        rows[k] = (await readMetricsRows(job.dir)).filter((r) => r.envSteps <= trainer.envSteps);
        await writeMetricsFiles(job.dir, rows[k], evalColumns);
      }
    } else {
      for (const job of jobs) {
        await Deno.mkdir(job.dir, { recursive: true });
        await Deno.writeTextFile(`${job.dir}/${RUN_FILES.config}`, configToYaml(job.config));
        await writeMetricsFiles(job.dir, [], evalColumns);
      }
    }
    // The adapter each session ran on (the report's device table): the latest session's.
    for (const job of jobs) {
      await Deno.writeTextFile(
        `${job.dir}/metadata.json`,
        JSON.stringify({ adapter: engine.adapter, seedsBatched: S }, null, 2) + "\n",
      );
    }
    const spi = trainer.stepsPerIteration;
    const ckptEvery = (itersPerLog: number) =>
      config.log.checkpointEvery === 0
        ? Infinity
        : Math.max(1, Math.ceil(config.log.checkpointEvery / (itersPerLog * spi)));
    progress?.status(`built in ${((performance.now() - tBuild) / 1000).toFixed(1)} s`);
    const t0 = performance.now(), startSteps = trainer.envSteps;
    let interrupted = false;
    let lastCheckpoint = resumed ? trainer.envSteps : -1;
    const checkpoint = async () => {
      if (S === 1) {
        await saveCheckpoint(engine, {
          path: ckptPaths[0],
          trainer,
          config,
          evaluation: evaluations[0],
        });
      } else {
        await saveSeedCheckpoints(engine, {
          batch: trainer,
          shadow,
          seeds: jobs.map((j, k) => ({
            path: ckptPaths[k],
            config: j.config,
            evaluation: evaluations[k],
          })),
        });
      }
      lastCheckpoint = trainer.envSteps;
    };
    const policy = S > 1 ? seedPolicyCopier(engine, trainer, shadow) : null;
    let result;
    try {
      result = await trainLoop(trainer, config, {
        wallOffset: rows[0].at(-1)?.wallSeconds ?? 0,
        evaluation: evaluations[0],
        seedEvaluations: policy
          ? { evaluations: evaluations.filter((e) => e !== null), select: policy }
          : undefined,
        engine,
        onTick: (envSteps) => progress?.tick(envSteps),
        shouldStop: () => options.signal?.aborted === true,
        async onRow(row, { iteration, itersPerLog, finished, logPoint, seed: k }) {
          const job = jobs[k];
          await appendRow(job.dir, row, rows[k].length === 0, evalColumns);
          rows[k].push(row);
          // A new best evaluation: its model goes to best.safetensors (one more read, weights
          // only; a batch's seed k is in the one-seed trainer while its row is handed over).
          if (row.eval?.best && row.eval.best.envSteps === row.envSteps) {
            await saveCheckpoint(engine, {
              path: `${job.dir}/${RUN_FILES.best}`,
              trainer: shadow,
              config: job.config,
              bestModel: { eval: row.eval },
            });
          }
          if (k < S - 1) return true;
          const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
          progress?.update({
            envSteps: row.envSteps,
            stepsPerSecond: (S * (row.envSteps - startSteps)) /
              Math.max(1e-9, (performance.now() - t0) / 1000),
            meanReturn: mean(rows.map((r) => r.at(-1)!.meanReturn)),
            episodes: rows.reduce((s, r) => s + r.at(-1)!.episodes, 0),
          });
          interrupted = !finished && options.signal?.aborted === true;
          if (
            finished || interrupted ||
            (logPoint && Math.ceil(iteration / itersPerLog) % ckptEvery(itersPerLog) === 0)
          ) {
            await checkpoint();
          }
          if (interrupted) return false;
          return finished || options.stopAt === undefined || trainer.envSteps < options.stopAt;
        },
      });
    } catch (e) {
      if (e instanceof NonFiniteError) {
        progress?.finish();
        const kept = lastCheckpoint >= 0
          ? `the last good checkpoint (${lastCheckpoint} env steps) is kept in ${
            ckptPaths.join(", ")
          }`
          : "no checkpoint was written";
        throw new NonFiniteError(e.envSteps, e.groups, `; ${kept}`);
      }
      throw e;
    }
    const { finished } = result;
    if (result.stopped) {
      // Stopped between slices: the submitted work is done; the state (metric accumulators and
      // counters included) resumes mid-interval, so the next row is the uninterrupted one.
      await checkpoint();
      interrupted = true;
    }
    const results = jobs.map((j, k) => ({ dir: j.dir, config: j.config, rows: rows[k] }));
    if (interrupted) {
      const where = options.resume ??
        (S === 1 ? jobs[0].dir : jobs[0].dir.replace(/\/seed-\d+$/, ""));
      progress?.finish(
        `${label}: stopped at ${trainer.envSteps} env steps; continue with --resume ${where}`,
      );
      return results.map((r) => ({ ...r, finished: false }));
    }
    const outputs = S === 1 ? jobs[0].dir : jobs.map((j) => j.dir).join(", ");
    progress?.finish(
      finished ? `${label}: done, ${trainer.envSteps} env steps; outputs in ${outputs}` : undefined,
    );
    return results.map((r) => ({ ...r, finished }));
  } finally {
    if (!options.engine) engine.destroy();
  }
}

/**
 * The `select` of a batch's evaluations: records and submits the copy of seed k's policy tensors
 * (`policyTensors`, else all state) from the batch into the one-seed trainer, and sets its host
 * counters to the batch's (every seed's).
 */
function seedPolicyCopier(engine: Engine, batch: Trainer, shadow: Trainer): (k: number) => void {
  const layouts = batch.seedLayouts!();
  const from = batch.policyTensors?.() ?? batch.stateTensors();
  const to = shadow.policyTensors?.() ?? shadow.stateTensors();
  return (k) => {
    const enc = engine.encoder("seeds.select");
    for (const [name, t] of Object.entries(from)) {
      encodeCopySeed(enc, t, to[name], layouts[name], batch.seeds!, k);
    }
    engine.submit(enc);
    shadow.restoreHostState(batch.hostState()); // its counters (best-model metadata) too
  };
}

/**
 * Trains one run (or `options.seeds` runs) of `config`, writing outputs under `options.root`.
 *
 * @param config A config object (validated here; missing fields take defaults).
 * @param options Root folder, seeds, resume, engine, progress and report switches.
 * @returns The run folder, each seed's metrics rows, and the report path.
 *
 * @example Train the random baseline into a temporary folder
 * ```ts
 * import { train } from "../mod.ts";
 *
 * const result = await train(
 *   {
 *     env: "Foraging-5x5-2p-1f",
 *     numEnvs: 8,
 *     totalSteps: 400,
 *     algo: { name: "random" },
 *     log: { interval: 200, checkpointEvery: 0 },
 *   },
 *   { root: await Deno.makeTempDir(), progress: "off", report: false },
 * );
 * console.log(result.dir, result.seeds[0].rows.length); // 2 rows: one per log interval
 * ```
 */
export async function train(config: unknown, options: TrainOptions = {}): Promise<TrainResult> {
  const write = guardedWriter(
    options.write ?? ((t: string) => Deno.stdout.writeSync(new TextEncoder().encode(t))),
  );
  let dir: string;
  let jobs: SeedJob[];
  if (options.resume) {
    dir = options.resume.replace(/\/+$/, "");
    jobs = await resumeJobs(dir, options.overrides ?? []);
  } else {
    const cfg = validateConfig(config);
    const seeds = options.seeds ?? cfg.seeds ?? 1;
    if (!Number.isInteger(seeds) || seeds < 1 || cfg.seed + seeds - 1 > 2 ** 32 - 1) {
      throw new RangeError(
        `Cannot train: seeds must be an integer >= 1 (with seed + seeds < 2^32), got ${seeds}`,
      );
    }
    const task = typeof cfg.env === "string" ? cfg.env : cfg.env.name;
    const name = cfg.name || `${cfg.algo.name}-${task}-${timestamp()}`;
    dir = `${options.root ?? "runs"}/${name}`;
    if (await exists(dir)) {
      throw new TypeError(
        `Cannot start run "${name}": folder "${dir}" already exists (resume it with --resume ${dir}, or choose another --name)`,
      );
    }
    jobs = Array.from({ length: seeds }, (_, k) => {
      const { seeds: _s, ...one } = structuredClone(cfg) as ExperimentConfig;
      const c = validateConfig({ ...one, name, seed: cfg.seed + k });
      return seeds === 1 ? { dir, config: c, label: name, resume: false } : {
        dir: `${dir}/seed-${c.seed}`,
        config: c,
        label: `${name} seed-${c.seed}`,
        resume: false,
      };
    });
  }
  if (!options.resume && jobs.length > 1) {
    // Every seed folder (with its config) exists up front, so --resume knows all seeds.
    for (const job of jobs) {
      await Deno.mkdir(job.dir, { recursive: true });
      await Deno.writeTextFile(`${job.dir}/${RUN_FILES.config}`, configToYaml(job.config));
    }
  }
  const results: SeedResult[] = [];
  let groups = await groupSeeds(jobs, write);
  if (groups.length === 1 && groups[0].length > 1) {
    try {
      results.push(...await runGroup(groups[0], options));
      groups = [];
    } catch (e) {
      // A batch that does not fit the device (a buffer over its limits): seeds one by one.
      if (!(e instanceof RangeError && /device allows|seed batching needs/.test(e.message))) {
        throw e;
      }
      write(
        `seeds run one after another: the ${jobs.length} seeds do not fit one device together (${e.message})\n`,
      );
      groups = jobs.map((j) => [j]);
    }
  }
  for (const group of groups) {
    const r = await runGroup(group, options);
    results.push(...r);
    if (!r.every((x) => x.finished)) break;
  }
  let report: string | null = null;
  if ((options.report ?? true) && results.every((r) => r.finished)) {
    report = `${dir}/${RUN_FILES.report}`;
    try {
      await writeReport(report, [dir]);
      if (options.progress !== "off") write(`report: ${report}\n`);
    } catch (e) {
      report = null;
      write(`report not written: ${(e as Error).message}\n`);
    }
  }
  return { dir, seeds: results, report };
}
