/**
 * Episode returns and lengths accumulated on the GPU between log points: `track` after every env
 * step, `summarise` once per log interval (then read `out`, one readback for everything).
 *
 * With `episodes` set (evaluation), env e counts only its first quota(e) finished episodes,
 * quota(e) = ⌊episodes / numEnvs⌋ + (e < episodes mod numEnvs ? 1 : 0), so that the envs
 * together count exactly `episodes`; `reset` zeroes the accumulators before such a count.
 *
 * @module
 */
import type { Engine } from "../engine/device.ts";
import type { Encoder } from "../engine/encoder.ts";
import { compileKernel, defineKernel } from "../engine/kernel.ts";
import type { Tensor } from "../engine/tensor.ts";
import type { EnvBuffers } from "../envs/env.ts";

const SHADER = "algorithms/episode_stats.wgsl";
const INCLUDES = ["common/_index.wgsl"] as const;
const PARAMS = { numAgents: "u32", numEnvs: "u32", episodes: "u32", seeds: "u32" } as const;

/**
 * Adds one env step into the running and finished-episode accumulators (with `episodes` > 0, only
 * the first quota(e) episodes of env e are counted).
 */
export const episodeStatsTrack = defineKernel({
  name: "episodeStats.track",
  shader: SHADER,
  entryPoint: "track",
  includes: INCLUDES,
  bindings: {
    reward: "read",
    terminated: "read",
    truncated: "read",
    running: "write",
    done: "write",
  },
  params: PARAMS,
  threads: (p) => p.numEnvs,
});

/** Sums the finished-episode accumulators over each seed's envs into `out` and zeroes them. */
export const episodeStatsSummarise = defineKernel({
  name: "episodeStats.summarise",
  shader: SHADER,
  entryPoint: "summarise",
  includes: INCLUDES,
  bindings: { done: "write", out: "write" },
  params: PARAMS,
  threads: (p) => p.seeds * (p.numAgents + 2),
});

/** Episode statistics of one interval, decoded from `out`. */
export interface EpisodeSummary {
  /** Episodes finished in the interval (summed over envs). */
  episodes: number;
  /** Mean return per agent over the finished episodes (NaN when none finished). */
  meanReturnPerAgent: number[];
  /** Mean over agents of the per-agent mean returns. */
  meanReturn: number;
  /** Mean episode length. */
  meanLength: number;
}

/** GPU episode statistics bound to an env's buffers. */
export interface EpisodeStats {
  /**
   * [seeds, numAgents + 2]: per seed, returns per agent, episodes, summed lengths (valid after
   * `summarise`).
   */
  readonly out: Tensor<"f32">;
  track(enc: Encoder): void;
  summarise(enc: Encoder): void;
  /** Zeroes the running and finished-episode accumulators (before counting from reset envs). */
  reset(enc: Encoder): void;
  /** Decodes a host copy of `out` (seed 0's statistics). */
  decode(out: Float32Array): EpisodeSummary;
  /** Decodes a host copy of `out`: each seed's statistics. */
  decodeSeeds(out: Float32Array): EpisodeSummary[];
  /**
   * Running and finished-episode accumulators for checkpoints (exact resume), keyed
   * `stats.running` and `stats.done`.
   */
  stateTensors(): Record<string, Tensor>;
}

/**
 * Builds the statistics for `numAgents` agents over `numEnvs` envs.
 *
 * @param engine Engine that owns the device.
 * @param options The env's buffers, sizes, label, and `episodes`: count only that many episodes
 *   in all (each env its quota, see the module doc); 0 or absent: every episode. `seeds`: the
 *   envs hold that many seeds (seed-major, algorithms/seeds.ts), summarised each on its own.
 * @returns The bound {@linkcode EpisodeStats}.
 */
export async function createEpisodeStats(
  engine: Engine,
  options: {
    env: EnvBuffers;
    numAgents: number;
    numEnvs: number;
    label: string;
    episodes?: number;
    seeds?: number;
  },
): Promise<EpisodeStats> {
  const { env, numAgents, numEnvs, label } = options;
  const episodes = options.episodes ?? 0;
  const seeds = options.seeds ?? 1;
  if (!Number.isInteger(seeds) || seeds < 1 || numEnvs % seeds !== 0 || (seeds > 1 && episodes)) {
    throw new RangeError(
      `Cannot build "${label}": seeds is ${seeds}, needs an integer >= 1 that divides numEnvs ${numEnvs} (and no episode quota)`,
    );
  }
  if (!Number.isInteger(episodes) || episodes < 0 || episodes >= 2 ** 24) {
    throw new RangeError(
      `Cannot build "${label}": episodes is ${episodes}, needs an integer in [0, 2^24)`,
    );
  }
  const running = engine.tensor({
    dtype: "f32",
    shape: [numAgents + 1, numEnvs],
    label: `${label}.running`,
  });
  const done = engine.tensor({
    dtype: "f32",
    shape: [numAgents + 2, numEnvs],
    label: `${label}.done`,
  });
  const out = engine.tensor({
    dtype: "f32",
    shape: [seeds, numAgents + 2],
    label: `${label}.out`,
  });
  const p = { numAgents, numEnvs, episodes, seeds };
  const [kt, ks] = await Promise.all([
    compileKernel(engine, episodeStatsTrack),
    compileKernel(engine, episodeStatsSummarise),
  ]);
  const track = kt.bind(
    {
      reward: env.reward,
      terminated: env.terminated,
      truncated: env.truncated,
      running,
      done,
    },
    p,
    `${label}.track`,
  );
  const summarise = ks.bind({ done, out }, p, `${label}.summarise`);
  return {
    out,
    track: (enc) => track.encode(enc),
    summarise: (enc) => summarise.encode(enc),
    reset(enc) {
      enc.clear(running);
      enc.clear(done);
    },
    stateTensors: () => ({ "stats.running": running, "stats.done": done }),
    decode: (o) => decodeSummary(o, numAgents),
    decodeSeeds: (o) =>
      Array.from(
        { length: seeds },
        (_, k) => decodeSummary(o.subarray(k * (numAgents + 2)), numAgents),
      ),
  };
}

function decodeSummary(o: Float32Array, numAgents: number): EpisodeSummary {
  const episodes = o[numAgents];
  const per = Array.from({ length: numAgents }, (_, a) => episodes > 0 ? o[a] / episodes : NaN);
  return {
    episodes,
    meanReturnPerAgent: per,
    meanReturn: per.reduce((s, v) => s + v, 0) / numAgents,
    meanLength: episodes > 0 ? o[numAgents + 1] / episodes : NaN,
  };
}
