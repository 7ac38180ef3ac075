/**
 * The training loop without any file system: build the trainer of a validated config, then
 * `trainer.run(k)` between log points and one metrics read per interval, each turned into a
 * {@linkcode MetricsRow} handed to a callback. {@linkcode train} (run folders, checkpoints,
 * progress, reports) and the browser entry `web.ts` both drive it.
 *
 * Evaluation (the config's `eval`, see {@linkcode planEvaluation}): every evaluation point is also
 * a log point. There the loop reads the metrics, then records a whole evaluation on the
 * evaluation envs and reads its result (one readback), and adds it to the row as `eval`, named as
 * the paper names it. Between points nothing is read. A protocol run by the trainer itself
 * (DIALS) arrives in the trainer's metrics and is put in the rows the same way.
 *
 * @module
 */
import type { Engine } from "../engine/device.ts";
import { createFiniteCheck, type FiniteCheck, type NonFinite } from "../engine/ops/finite.ts";
import { readPending, readWithNext, waitIdle } from "../engine/readback.ts";
import type { Tensor } from "../engine/tensor.ts";
import type { ExperimentConfig } from "./config.ts";
import { findAlgorithm } from "../algorithms/mod.ts";
import {
  createEvaluation,
  evalIntervalSteps,
  type Evaluation,
  evalValue,
} from "../algorithms/evaluation.ts";
import {
  type AlgorithmDef,
  evalNames,
  type EvalProtocol,
  familyEvalProtocol,
  type Metrics,
  type Trainer,
} from "../algorithms/trainer.ts";
import type { EvalRow, MetricsRow } from "./run_files.ts";

export type { EvalRow, MetricsRow } from "./run_files.ts";
export type { Evaluation } from "../algorithms/evaluation.ts";

/** When and how a run evaluates. */
export interface EvalPlan {
  /** The algorithm family's protocol (names, runner). */
  protocol: EvalProtocol;
  /** The names of one evaluation's value and of the best model's value. */
  names: { value: string; best: string };
  /** Env steps between evaluation points (0: none). */
  intervalSteps: number;
  /** Iterations between evaluation points (0: none within the budget). */
  itersPerEval: number;
}

/**
 * The family protocol of a validated config (its algorithm's `evalProtocol`).
 *
 * @param config A config from `validateConfig`.
 * @returns The protocol whose names and runner apply; the settings are `config.eval`.
 */
export function evalProtocolOf(config: ExperimentConfig): EvalProtocol {
  const def = findAlgorithm(config.algo.name) as AlgorithmDef<object>;
  const { name: _n, ...algo } = config.algo;
  return familyEvalProtocol(def, config, algo);
}

/**
 * When a run evaluates: every `config.eval` interval (or fraction of `totalSteps`), rounded to
 * whole iterations (at least one); points past `totalSteps` do not count, so a run whose budget
 * is shorter than one interval has none.
 *
 * @param config A validated config.
 * @param stepsPerIteration The trainer's env steps per iteration.
 * @returns The {@linkcode EvalPlan}.
 */
export function planEvaluation(config: ExperimentConfig, stepsPerIteration: number): EvalPlan {
  const protocol = evalProtocolOf(config);
  const intervalSteps = evalIntervalSteps(config.eval, config.totalSteps);
  const totalIters = Math.ceil(config.totalSteps / stepsPerIteration);
  const iters = intervalSteps > 0 ? Math.max(1, Math.round(intervalSteps / stepsPerIteration)) : 0;
  return {
    protocol,
    names: evalNames(protocol, config.eval),
    intervalSteps,
    itersPerEval: protocol.runner === "evaluator" && iters <= totalIters ? iters : 0,
  };
}

/**
 * Builds the evaluation of a run when its plan has evaluation points (else null): evaluation envs
 * and the trainer's eval actor (`algorithms/evaluation.ts`).
 *
 * @param engine Engine of the trainer.
 * @param trainer The trainer built from `config`.
 * @param config The validated config.
 * @returns The evaluation, or null when the run never evaluates on separate envs.
 *
 * @example Evaluate a trainer every 200 env steps while training, without a file system
 * ```ts
 * import { buildEvaluation, buildTrainer, createEngine, trainLoop, validateConfig } from "../mod.ts";
 *
 * const config = validateConfig({
 *   env: "Foraging-5x5-2p-1f",
 *   numEnvs: 8,
 *   totalSteps: 400,
 *   algo: { name: "random" },
 *   log: { interval: 200, checkpointEvery: 0 },
 *   eval: { interval: 200, episodes: 4, envs: 4 },
 * });
 * const engine = await createEngine();
 * const trainer = await buildTrainer(engine, config);
 * const evaluation = await buildEvaluation(engine, trainer, config);
 * await trainLoop(trainer, config, {
 *   evaluation,
 *   onRow: (row) => console.log(row.envSteps, row.eval?.protocol, row.eval?.value),
 * });
 * engine.destroy();
 * ```
 */
export async function buildEvaluation(
  engine: Engine,
  trainer: Trainer,
  config: ExperimentConfig,
): Promise<Evaluation | null> {
  const plan = planEvaluation(config, trainer.stepsPerIteration);
  if (plan.itersPerEval === 0) return null;
  if (!trainer.createEvalActor) {
    throw new TypeError(
      `Cannot evaluate "${config.algo.name}": it cannot act on separate evaluation envs (set eval.interval: 0)`,
    );
  }
  return await createEvaluation(engine, trainer, { run: config, config: config.eval });
}

/**
 * Builds the trainer of a validated config (its algorithm from the registry).
 *
 * @param engine Engine that owns the device.
 * @param config A config from `validateConfig`.
 * @returns The trainer, its env reset and ready to run.
 *
 * @example Train without a file system (as in a browser), one callback per log row
 * ```ts
 * import { buildTrainer, createEngine, trainLoop, validateConfig } from "../mod.ts";
 *
 * const config = validateConfig({
 *   env: "Foraging-5x5-2p-1f",
 *   numEnvs: 8,
 *   totalSteps: 400,
 *   algo: { name: "random" },
 *   log: { interval: 200, checkpointEvery: 0 },
 * });
 * const engine = await createEngine();
 * const trainer = await buildTrainer(engine, config);
 * await trainLoop(trainer, config, { onRow: (row) => console.log(row.envSteps, row.meanReturn) });
 * engine.destroy();
 * ```
 */
export async function buildTrainer(engine: Engine, config: ExperimentConfig): Promise<Trainer> {
  const def = findAlgorithm(config.algo.name);
  if (!def) throw new TypeError(`Cannot build trainer: unknown algorithm "${config.algo.name}"`);
  const { name: _name, ...algo } = config.algo;
  return await def.create(engine, config, algo);
}

/** Where the loop stands when it hands over a row. */
export interface LoopState {
  /** Iterations done so far (including those of a resumed run). */
  iteration: number;
  /** Iterations between log points. */
  itersPerLog: number;
  /** True once `totalSteps` is reached (this is the last row). */
  finished: boolean;
  /** True when this row is at a regular log point (not only at an evaluation point). */
  logPoint: boolean;
  /** Which seed of a seed-batched trainer the row is (0 for a one-seed trainer). */
  seed: number;
}

/** Options of {@linkcode trainLoop}. */
export interface TrainLoopOptions {
  /** Wall seconds already spent by earlier sessions of this run (added to `wallSeconds`). */
  wallOffset?: number;
  /**
   * The run's evaluation, from {@linkcode buildEvaluation} (null: none). Required when the
   * config's plan has evaluation points.
   */
  evaluation?: Evaluation | null;
  /**
   * A seed-batched trainer's evaluations (`Trainer.seeds` > 1): one per seed, each built on a
   * one-seed trainer, and `select(k)`, which puts seed k's weights into that trainer (called
   * before evaluation k). Rows are handed over seed by seed, row k right after evaluation k.
   */
  seedEvaluations?: { evaluations: readonly Evaluation[]; select(k: number): void };
  /**
   * Receives every row in order (awaited). Return `false` to stop after this row; the loop then
   * reports `finished: false` unless `totalSteps` was reached.
   */
  onRow?(row: MetricsRow, state: LoopState): boolean | void | Promise<boolean | void>;
  /**
   * The trainer's engine. With it the loop submits each interval in slices of about
   * `sliceSeconds` and waits for the GPU between slices (no read: `waitIdle`), so signals, timers
   * and `onTick` run while the GPU is busy and the queue never holds more than one slice; and it
   * checks the trainer's parameters, optimiser state and loss accumulators for NaN/±Inf at every
   * log point (one dispatch per tensor, read with the metrics: no extra read), throwing
   * {@linkcode NonFiniteError}. Without it: one submit per interval, no check (browsers).
   */
  engine?: Engine;
  /** Target wall time of one slice [s]. Default 1. */
  sliceSeconds?: number;
  /** Called after every slice with the host's env-step counter (progress between rows). */
  onTick?(envSteps: number): void;
  /**
   * Asked after every slice: true stops the loop there, before the next row (the caller writes a
   * checkpoint: the trainer's state, metric accumulators included, resumes mid-interval).
   */
  shouldStop?(): boolean;
}

/** What {@linkcode trainLoop} ended with. */
export interface TrainLoopResult {
  /** The rows (of seed 0 for a seed-batched trainer). */
  rows: MetricsRow[];
  /** Each seed's rows (one list for a one-seed trainer). */
  seedRows: MetricsRow[][];
  /** `totalSteps` was reached. */
  finished: boolean;
  /** `shouldStop` stopped the loop between two slices (the last row is older than the state). */
  stopped: boolean;
}

/** A log point found NaN or ±Inf in the trainer's state: the run must not go on (or checkpoint). */
export class NonFiniteError extends Error {
  /** Env steps at the log point that found it. */
  readonly envSteps: number;
  /** The tensors with non-finite values (state-tensor names, in the trainer's order). */
  readonly groups: readonly NonFinite[];
  constructor(envSteps: number, groups: readonly NonFinite[], detail = "") {
    const first = groups[0];
    const more = groups.length > 1 ? ` and ${groups.length - 1} more tensor(s)` : "";
    super(
      `Non-finite values at ${envSteps} env steps: "${first.name}" has ${first.count} NaN or infinite value(s)${more}${detail}; lower the learning rate or check the reward scale`,
    );
    this.name = "NonFiniteError";
    this.envSteps = envSteps;
    this.groups = groups;
  }
}

/** The trainer's tensors the non-finite check covers: all f32 state but the env's own. */
function checkedTensors(trainer: Trainer): Record<string, Tensor> {
  return Object.fromEntries(
    Object.entries(trainer.stateTensors()).filter(([k]) => !k.startsWith("env.")),
  );
}

/**
 * Trains `trainer` from its current env steps up to `config.totalSteps`, reading metrics once per
 * `config.log.interval` env steps (rounded to whole iterations, at least one) and at every
 * evaluation point of {@linkcode planEvaluation}, where `options.evaluation` runs.
 *
 * @param trainer A trainer built from `config` (possibly restored from a checkpoint).
 * @param config The validated config it was built from.
 * @param options Wall-time offset and the row callback.
 * @returns The rows of this session and whether `totalSteps` was reached.
 *
 * @example Train without a file system (as in a browser), one callback per log row
 * ```ts
 * import { buildTrainer, createEngine, trainLoop, validateConfig } from "../mod.ts";
 *
 * const config = validateConfig({
 *   env: "Foraging-5x5-2p-1f",
 *   numEnvs: 8,
 *   totalSteps: 400,
 *   algo: { name: "random" },
 *   log: { interval: 200, checkpointEvery: 0 },
 * });
 * const engine = await createEngine();
 * const trainer = await buildTrainer(engine, config);
 * await trainLoop(trainer, config, { onRow: (row) => console.log(row.envSteps, row.meanReturn) });
 * engine.destroy();
 * ```
 */
export async function trainLoop(
  trainer: Trainer,
  config: ExperimentConfig,
  options: TrainLoopOptions = {},
): Promise<TrainLoopResult> {
  const spi = trainer.stepsPerIteration;
  const engine = options.engine;
  const sliceSeconds = options.sliceSeconds ?? 1;
  let finite: FiniteCheck | null = null;
  let slice = 1;
  const itersPerLog = Math.max(1, Math.round(config.log.interval / spi));
  const totalIters = Math.ceil(config.totalSteps / spi);
  const plan = planEvaluation(config, spi);
  const seeds = trainer.seeds ?? 1;
  const evaluations = seeds > 1
    ? options.seedEvaluations?.evaluations ?? null
    : options.evaluation
    ? [options.evaluation]
    : null;
  if (
    plan.itersPerEval > 0 &&
    (seeds > 1 ? !options.seedEvaluations : options.evaluation === undefined)
  ) {
    throw new TypeError(
      `Cannot train: the config evaluates every ${plan.intervalSteps} env steps; pass options.evaluation (from buildEvaluation), or set eval.interval: 0`,
    );
  }
  const itersPerEval = evaluations ? plan.itersPerEval : 0;
  let it = Math.round(trainer.envSteps / spi);
  const wallOffset = options.wallOffset ?? 0;
  const seedRows: MetricsRow[][] = Array.from({ length: seeds }, () => []);
  const rows = seedRows[0];
  const t0 = performance.now();
  let tPrev = t0, stepsPrev = trainer.envSteps;
  let finished = it >= totalIters;
  const after = (period: number) => (Math.floor(it / period) + 1) * period;
  while (it < totalIters) {
    const target = Math.min(after(itersPerLog), itersPerEval ? after(itersPerEval) : Infinity);
    const end = Math.min(target, totalIters);
    if (!engine) {
      trainer.run(end - it);
      it = end;
    }
    while (engine && it < end) {
      // A slice, then a wait (no read): signals and timers run, and the queue stays short.
      const k = Math.min(slice, end - it), t = performance.now();
      trainer.run(k);
      it += k;
      if (it === end) break; // the metrics read below waits for the last slice
      await waitIdle(engine);
      const dt = (performance.now() - t) / 1000;
      slice = Math.max(1, Math.min(4 * k, Math.round((k * sliceSeconds) / Math.max(dt, 1e-3))));
      options.onTick?.(trainer.envSteps);
      if (options.shouldStop?.()) return { rows, seedRows, finished: false, stopped: true };
    }
    let counts: Promise<Uint32Array> | null = null;
    if (engine) {
      finite ??= await createFiniteCheck(engine, checkedTensors(trainer), "loop");
      const enc = engine.encoder("loop.finite");
      finite.encode(enc);
      engine.submit(enc);
      counts = readWithNext(engine, finite.counts);
      counts.catch(() => {}); // a failed read is reported by readMetrics below
    }
    const ms: Metrics[] = seeds > 1
      ? await trainer.readSeedMetrics!()
      : [await trainer.readMetrics()];
    if (counts && finite) {
      if (engine) await readPending(engine); // a trainer whose metrics need no read
      const bad = finite.decode(await counts);
      if (bad.length > 0) throw new NonFiniteError(ms[0].envSteps, bad);
    }
    finished = it >= totalIters;
    const logPoint = it % itersPerLog === 0 || finished;
    const evaluating = it % itersPerEval === 0;
    let more = true, now = performance.now();
    for (const [k, m] of ms.entries()) {
      // A batch's seed k goes into the one-seed trainer for its evaluation; it stays there while
      // the row is handed over (the callback saves a new best model from it).
      const evaluation = evaluating ? evaluations?.[k] ?? null : null;
      if (evaluation && seeds > 1) options.seedEvaluations?.select(k);
      const evalRow = await evalRowOf(m, evaluation);
      if (evaluation) now = performance.now();
      const row: MetricsRow = {
        envSteps: m.envSteps,
        wallSeconds: wallOffset + (now - t0) / 1000,
        stepsPerSecond: (m.envSteps - stepsPrev) / Math.max(1e-9, (now - tPrev) / 1000),
        episodes: m.episodes,
        meanReturn: m.meanReturn,
        meanLength: m.meanLength,
        returnPerAgent: [...m.returnPerAgent],
        scalars: { ...m.scalars },
      };
      if (evalRow) row.eval = evalRow;
      seedRows[k].push(row);
      const state = { iteration: it, itersPerLog, finished, logPoint, seed: k };
      if (await options.onRow?.(row, state) === false) more = false;
    }
    tPrev = now;
    stepsPrev = ms[0].envSteps;
    if (!more) break;
  }
  return { rows, seedRows, finished, stopped: false };

  async function evalRowOf(
    m: Metrics,
    evaluation: Evaluation | null,
  ): Promise<EvalRow | undefined> {
    let evalRow: EvalRow | undefined;
    if (evaluation) {
      const r = await evaluation.run(m.envSteps);
      evalRow = {
        protocol: plan.names.value,
        value: r.value,
        episodes: r.episodes,
        policy: evaluation.config.policy,
        returns: evaluation.config.returns,
        returnPerAgent: r.returnPerAgent,
        meanLength: r.meanLength,
      };
      if (r.best) evalRow.best = { protocol: plan.names.best, ...r.best };
    } else if (plan.protocol.runner === "trainer" && m.evaluation) {
      const e = m.evaluation;
      evalRow = {
        protocol: plan.names.value,
        value: evalValue(e, config.eval.returns),
        episodes: e.episodes,
        policy: config.eval.policy,
        returns: config.eval.returns,
        returnPerAgent: [...e.meanReturnPerAgent],
        meanLength: e.meanLength,
      };
    }
    return evalRow;
  }
}
