/**
 * The training loop without any file system: build the trainer of a validated config, then
 * `trainer.run(k)` between log points and one metrics read per interval, each turned into a
 * {@linkcode MetricsRow} handed to a callback. {@linkcode train} (run folders, checkpoints,
 * progress, reports) and the browser entry `web.ts` both drive it.
 *
 * @module
 */
import type { Engine } from "../engine/device.ts";
import type { ExperimentConfig } from "./config.ts";
import { findAlgorithm } from "../algorithms/mod.ts";
import type { Metrics, Trainer } from "../algorithms/trainer.ts";
import type { MetricsRow } from "./run_files.ts";

export type { MetricsRow } from "./run_files.ts";

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
}

/** Options of {@linkcode trainLoop}. */
export interface TrainLoopOptions {
  /** Wall seconds already spent by earlier sessions of this run (added to `wallSeconds`). */
  wallOffset?: number;
  /**
   * Receives every row in order (awaited). Return `false` to stop after this row; the loop then
   * reports `finished: false` unless `totalSteps` was reached.
   */
  onRow?(row: MetricsRow, state: LoopState): boolean | void | Promise<boolean | void>;
}

/**
 * Trains `trainer` from its current env steps up to `config.totalSteps`, reading metrics once per
 * `config.log.interval` env steps (rounded to whole iterations, at least one).
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
): Promise<{ rows: MetricsRow[]; finished: boolean }> {
  const spi = trainer.stepsPerIteration;
  const itersPerLog = Math.max(1, Math.round(config.log.interval / spi));
  const totalIters = Math.ceil(config.totalSteps / spi);
  let it = Math.round(trainer.envSteps / spi);
  const wallOffset = options.wallOffset ?? 0;
  const rows: MetricsRow[] = [];
  const t0 = performance.now();
  let tPrev = t0, stepsPrev = trainer.envSteps;
  let finished = it >= totalIters;
  while (it < totalIters) {
    const n = Math.min(itersPerLog - (it % itersPerLog), totalIters - it);
    trainer.run(n);
    it += n;
    const m: Metrics = await trainer.readMetrics();
    const now = performance.now();
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
    tPrev = now;
    stepsPrev = m.envSteps;
    rows.push(row);
    finished = it >= totalIters;
    const more = await options.onRow?.(row, { iteration: it, itersPerLog, finished });
    if (more === false) break;
  }
  return { rows, finished };
}
