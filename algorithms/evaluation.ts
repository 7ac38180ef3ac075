/**
 * In-training evaluation on the GPU with a paper's protocol ({@linkcode EvalConfig}): separate
 * evaluation envs (same task and env options as training, `numEnvs = min(envs, episodes)`,
 * seeded with run seed + `seed`), the trainer's current weights acting on them through
 * `Trainer.createEvalActor`, and episode statistics that count exactly `episodes` episodes.
 *
 * One evaluation, recorded without any readback: reset the eval envs (episode 0 of each env's
 * stream, so every evaluation starts from the same states: common random numbers across
 * evaluation points; the policy's own RNG stream advances), zero the statistics, then
 * S = ⌈episodes / numEnvs⌉ · maxSteps steps of act → env step (→ the actor's after-step) → track. Env e counts only its
 * first quota(e) episodes (`episode_stats.ts`); every episode lasts at most `maxSteps` steps from
 * a reset, so after S steps every env has finished its quota and the envs together have counted
 * exactly `episodes` episodes (checked after the read). Then one readback of the summary.
 * Envs that finish their quota early keep stepping until S (no host round trip decides when to
 * stop); their extra episodes are not counted.
 *
 * The evaluation also keeps the best value so far (for `best`), and checkpoints its RNG counters
 * and that best value (`stateTensors`, `hostState`), so a resumed run evaluates identically.
 *
 * @module
 */
import type { Engine } from "../engine/device.ts";
import { readTensor } from "../engine/readback.ts";
import type { Tensor } from "../engine/tensor.ts";
import type { VecEnv } from "../envs/env.ts";
import { findTask } from "../envs/registry.ts";
import { createEpisodeStats, type EpisodeStats, type EpisodeSummary } from "./episode_stats.ts";
import type { EvalActor, EvalConfig, RunConfig, Trainer } from "./trainer.ts";

/** Steps recorded per submit (bounds the size of one command buffer). */
const STEPS_PER_SUBMIT = 64;

/** What one evaluation measured. */
export interface EvalOutcome {
  /** The protocol's number: team or per-agent mean return over the episodes. */
  value: number;
  /** Episodes counted (always the protocol's `episodes`). */
  episodes: number;
  /** Mean return per agent over the episodes. */
  returnPerAgent: number[];
  /** Mean episode length [steps]. */
  meanLength: number;
  /** With `best`: the best value so far (this one included) and its env steps. */
  best: { value: number; envSteps: number } | null;
}

/** A built evaluation (see the module doc). */
export interface Evaluation {
  /** The effective settings. */
  readonly config: Readonly<EvalConfig>;
  /** The evaluation envs. */
  readonly env: VecEnv;
  /** Steps of every eval env per evaluation: ⌈episodes / numEnvs⌉ · maxSteps. */
  readonly stepsPerEval: number;
  /** The best value so far and its env steps (null before the first evaluation or without `best`). */
  readonly best: { value: number; envSteps: number } | null;
  /** Records and submits one whole evaluation (never awaits). */
  record(): void;
  /**
   * Runs one evaluation at `envSteps`: `record`, then one readback; updates the best value.
   *
   * @throws {RangeError} When the envs did not count exactly `episodes` episodes.
   */
  run(envSteps: number): Promise<EvalOutcome>;
  /** The eval actor's RNG counters (keyed `actor.<name>`) for checkpoints. */
  stateTensors(): Record<string, Tensor>;
  /** The best value and its env steps (NaN/-1 when none yet). */
  hostState(): Record<string, number>;
  restoreHostState(state: Record<string, number>): void;
}

/**
 * The number of an evaluation from its episode statistics.
 *
 * @param summary Decoded statistics of the episodes.
 * @param returns team: Σ over agents of the per-agent mean returns; agent: their mean.
 * @returns The value (NaN without episodes).
 */
export function evalValue(summary: EpisodeSummary, returns: EvalConfig["returns"]): number {
  const team = summary.meanReturnPerAgent.reduce((s, v) => s + v, 0);
  return returns === "team" ? team : team / summary.meanReturnPerAgent.length;
}

/**
 * Env steps between evaluation points: `intervalFraction` · `totalSteps` (rounded, at least 1)
 * when the fraction is set, else `interval` (0: no evaluation).
 *
 * @param config The protocol settings.
 * @param totalSteps The run's budget [env steps].
 * @returns The interval [env steps, summed over envs].
 */
export function evalIntervalSteps(config: Readonly<EvalConfig>, totalSteps: number): number {
  return config.intervalFraction > 0
    ? Math.max(1, Math.round(config.intervalFraction * totalSteps))
    : config.interval;
}

/** Options of {@linkcode createEvaluation}. */
export interface EvaluationOptions {
  /** The run: its task (with env options) and seed; numEnvs and totalSteps are not used. */
  run: RunConfig;
  /** The effective protocol settings. */
  config: Readonly<EvalConfig>;
  /** Label prefix of the eval buffers. Default "eval". */
  label?: string;
}

/**
 * Builds an evaluation for `trainer` (see the module doc): eval envs, the trainer's eval actor on
 * them, and exact episode statistics.
 *
 * @param engine Engine of the trainer.
 * @param trainer A trainer with `createEvalActor`.
 * @param options The run, the protocol settings and a label.
 * @returns The {@linkcode Evaluation}.
 * @throws {TypeError} When the trainer cannot act on separate envs.
 */
export async function createEvaluation(
  engine: Engine,
  trainer: Trainer,
  options: EvaluationOptions,
): Promise<Evaluation> {
  const { run, config } = options;
  const label = options.label ?? "eval";
  if (!trainer.createEvalActor) {
    throw new TypeError(
      `Cannot build "${label}": this trainer cannot act on separate evaluation envs`,
    );
  }
  if (!Number.isInteger(config.episodes) || config.episodes < 1) {
    throw new RangeError(`Cannot build "${label}": episodes is ${config.episodes}, needs >= 1`);
  }
  if (!Number.isInteger(config.envs) || config.envs < 1) {
    throw new RangeError(`Cannot build "${label}": envs is ${config.envs}, needs >= 1`);
  }
  const numEnvs = Math.min(config.envs, config.episodes);
  const seed = (run.seed + config.seed) >>> 0;
  const { def, spec } = findTask(run.env);
  const env = await def.create(engine, spec, { numEnvs, seed });
  const actor = await trainer.createEvalActor(env, { seed });
  const stats = await createEpisodeStats(engine, {
    env: env.buffers,
    numAgents: spec.numAgents,
    numEnvs,
    episodes: config.episodes,
    label: `${label}.stats`,
  });
  const steps = Math.ceil(config.episodes / numEnvs) * spec.maxSteps;
  return new GpuEvaluation({ engine, config, env, actor, stats, steps, label });
}

class GpuEvaluation implements Evaluation {
  readonly config: Readonly<EvalConfig>;
  readonly env: VecEnv;
  readonly stepsPerEval: number;
  readonly #engine: Engine;
  readonly #actor: EvalActor;
  readonly #stats: EpisodeStats;
  readonly #label: string;
  #best: { value: number; envSteps: number } | null = null;

  constructor(o: {
    engine: Engine;
    config: Readonly<EvalConfig>;
    env: VecEnv;
    actor: EvalActor;
    stats: EpisodeStats;
    steps: number;
    label: string;
  }) {
    this.#engine = o.engine;
    this.config = o.config;
    this.env = o.env;
    this.#actor = o.actor;
    this.#stats = o.stats;
    this.stepsPerEval = o.steps;
    this.#label = o.label;
  }

  get best(): { value: number; envSteps: number } | null {
    return this.#best && { ...this.#best };
  }

  record(): void {
    const greedy = this.config.policy === "greedy";
    let enc = this.#engine.encoder(`${this.#label}.begin`);
    this.env.encodeReset(enc);
    this.#stats.reset(enc);
    this.#actor.encodeBegin?.(enc);
    for (let t = 0; t < this.stepsPerEval; t++) {
      if (t > 0 && t % STEPS_PER_SUBMIT === 0) {
        this.#engine.submit(enc);
        enc = this.#engine.encoder(`${this.#label}.steps`);
      }
      this.#actor.encodeAct(enc, greedy);
      this.env.encodeStep(enc);
      this.#actor.encodeAfterStep?.(enc);
      this.#stats.track(enc);
    }
    this.#stats.summarise(enc);
    this.#engine.submit(enc);
  }

  async run(envSteps: number): Promise<EvalOutcome> {
    this.record();
    const s = this.#stats.decode(await readTensor(this.#engine, this.#stats.out));
    if (s.episodes !== this.config.episodes) {
      throw new RangeError(
        `Cannot evaluate "${this.#label}": counted ${s.episodes} episodes in ${this.stepsPerEval} steps of ${this.env.numEnvs} envs, expected ${this.config.episodes} (an episode longer than maxSteps ${this.env.spec.maxSteps}?)`,
      );
    }
    const value = evalValue(s, this.config.returns);
    if (this.config.best && (this.#best === null || value > this.#best.value)) {
      this.#best = { value, envSteps };
    }
    return {
      value,
      episodes: s.episodes,
      returnPerAgent: s.meanReturnPerAgent,
      meanLength: s.meanLength,
      best: this.config.best ? this.best : null,
    };
  }

  stateTensors(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(this.#actor.stateTensors())) out[`actor.${k}`] = t;
    return out;
  }

  hostState(): Record<string, number> {
    return { bestValue: this.#best?.value ?? NaN, bestEnvSteps: this.#best?.envSteps ?? -1 };
  }

  restoreHostState(state: Record<string, number>): void {
    const v = state.bestValue, at = state.bestEnvSteps;
    if (at === undefined || at === -1 || !Number.isFinite(v)) {
      this.#best = null;
      return;
    }
    if (!Number.isInteger(at) || at < 0) {
      throw new TypeError(`Cannot restore "${this.#label}": host state "bestEnvSteps" is ${at}`);
    }
    this.#best = { value: v, envSteps: at };
  }
}
