/**
 * SUPER's selection on the GPU (docs/algorithms/super.md §3): from each sender's |δ| over its fragment rows
 * `[numAgents, n]`, the 0/1 share flags by the quantile, Gaussian or stochastic rule, compacted
 * into the relay format `indices [numAgents, n]` + `counts [numAgents]` that
 * `Replay.bindCrossInsert` reads, plus per-agent metrics (rows shared, rows seen, Σ|δ|) that stay
 * on the GPU until read. The sliding window W_i (quantile, Gaussian, stochastic with the "window"
 * normaliser) is a FIFO ring of the last `window` values per agent, appended before its statistics
 * are taken (engine/ops/quantile.ts and reduce.ts). The stochastic rule shares row k with
 * probability min(1, β·a_k^α / mean(a^α)), a = |δ|, the mean over the fragment or over W_i.
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import { compileKernel, defineKernel } from "../../engine/kernel.ts";
import { type Compact, createCompact } from "../../engine/ops/compact.ts";
import { createWindowQuantile } from "../../engine/ops/quantile.ts";
import { createReduce, createWindowMoments } from "../../engine/ops/reduce.ts";
import { RNG_PURPOSE } from "../../engine/rng.ts";
import type { Tensor } from "../../engine/tensor.ts";
import { normalQuantile } from "./normal_quantile.ts";

export { normalQuantile } from "./normal_quantile.ts";

const SHADER = "algorithms/super/select.wgsl";
const INCLUDES = ["common/_index.wgsl", "common/_rng.wgsl"] as const;
const PARAMS = {
  numAgents: "u32",
  numEnvs: "u32",
  fragment: "u32",
  n: "u32",
  capacity: "u32",
  mode: "u32",
  c: "f32",
  useStd: "u32",
  beta: "f32",
  seed: "u32",
  purpose: "u32",
  alpha: "f32",
  normaliser: "u32",
  seeds: "u32",
} as const;
type SuperParams = { [K in keyof typeof PARAMS]: number };
const perRow = (p: SuperParams) => p.numAgents * p.n;
const perAgent = (p: SuperParams) => p.numAgents;
const perSlot = (p: SuperParams) => p.numAgents * p.capacity;

/** Ring slots of the fragment's rows, from the replay counters and the start recorded last relay. */
export const superFragmentSlots = defineKernel({
  name: "super.fragmentSlots",
  shader: SHADER,
  entryPoint: "fragmentSlots",
  includes: INCLUDES,
  bindings: { countersIn: "read", startIn: "read", slots: "write" },
  params: PARAMS,
  threads: perRow,
});

/** Appends the fragment's |δ| to each agent's FIFO window. */
export const superWindowPush = defineKernel({
  name: "super.windowPush",
  shader: SHADER,
  entryPoint: "windowPush",
  includes: INCLUDES,
  bindings: { absTd: "read", countIn: "read", window: "write" },
  params: PARAMS,
  threads: perRow,
});

/** flag = |δ| > τ (the window's (1 − β) quantile). */
export const superSelectQuantile = defineKernel({
  name: "super.selectQuantile",
  shader: SHADER,
  entryPoint: "selectQuantile",
  includes: INCLUDES,
  bindings: { absTd: "read", threshold: "read", flags: "write" },
  params: PARAMS,
  threads: perRow,
});

/** flag = |δ| > μ + c·(v or √v) over the window. */
export const superSelectGaussian = defineKernel({
  name: "super.selectGaussian",
  shader: SHADER,
  entryPoint: "selectGaussian",
  includes: INCLUDES,
  bindings: { absTd: "read", moments: "read", flags: "write" },
  params: PARAMS,
  threads: perRow,
});

/**
 * flag ~ Bernoulli(min(1, β·|δ|^α / mean |δ|^α)), the mean over the fragment (`normaliser` 0) or
 * the window (1) given as its sum `sums [numAgents]`.
 */
export const superSelectStochastic = defineKernel({
  name: "super.selectStochastic",
  shader: SHADER,
  entryPoint: "selectStochastic",
  includes: INCLUDES,
  bindings: { absTd: "read", sums: "read", countIn: "read", clock: "read", flags: "write" },
  params: PARAMS,
  threads: perRow,
});

/** prio = |δ|^α of the fragment's rows [numAgents, n]. */
export const superBatchPriority = defineKernel({
  name: "super.batchPriority",
  shader: SHADER,
  entryPoint: "batchPriority",
  includes: INCLUDES,
  bindings: { absTd: "read", prio: "write" },
  params: PARAMS,
  threads: perRow,
});

/** prio = value^α of each agent's filled window slots [numAgents, capacity], 0 elsewhere. */
export const superWindowPriority = defineKernel({
  name: "super.windowPriority",
  shader: SHADER,
  entryPoint: "windowPriority",
  includes: INCLUDES,
  bindings: { windowIn: "read", countIn: "read", prio: "write" },
  params: PARAMS,
  threads: perSlot,
});

/** Records each ring's pending start after a relay (step 0 of the next fragment). */
export const superSnapshot = defineKernel({
  name: "super.snapshot",
  shader: SHADER,
  entryPoint: "snapshot",
  includes: INCLUDES,
  bindings: { countersIn: "read", startOut: "write" },
  params: PARAMS,
  threads: perAgent,
});

/** Window counts after a push. */
export const superWindowCount = defineKernel({
  name: "super.windowCount",
  shader: SHADER,
  entryPoint: "windowCount",
  includes: INCLUDES,
  bindings: { count: "write" },
  params: PARAMS,
  threads: perAgent,
});

/** Metrics and the Bernoulli clock after a relay. */
export const superAdvance = defineKernel({
  name: "super.advance",
  shader: SHADER,
  entryPoint: "advance",
  includes: INCLUDES,
  bindings: { sums: "read", sharedCount: "read", metrics: "write", clockOut: "write" },
  params: PARAMS,
  threads: perAgent,
});

/** Selection heuristics of docs/algorithms/super.md §3. */
export type SuperMode = "quantile" | "gaussian" | "stochastic";
/** Scale of the Gaussian rule: the released code's variance, or the paper's standard deviation. */
export type GaussianScale = "variance" | "std";
/** Normaliser of the stochastic rule: the current fragment (released code) or the sliding window. */
export type StochasticNormaliser = "batch" | "window";

/** Options of {@linkcode createSuperSelect}. */
export interface SuperSelectOptions {
  /** |δ| of every sender's fragment rows [numAgents, n] f32 (written before `encode`). */
  absTd: Tensor<"f32">;
  numAgents: number;
  /** Rows per agent and fragment (F·numEnvs). */
  n: number;
  mode: SuperMode;
  /** Target fraction shared β ∈ [0, 1]. */
  bandwidth: number;
  /** Window length k [transitions] (quantile, Gaussian, stochastic "window" normaliser). */
  window: number;
  gaussianScale: GaussianScale;
  /**
   * Stochastic rule's normaliser: mean of |δ|^α over the fragment ("batch", default: the released
   * code) or over the sender's window of the last `window` |δ| including this fragment ("window").
   */
  stochasticNormaliser?: StochasticNormaliser;
  /** Stochastic rule's priority exponent α > 0 (default 1): p = min(1, β·|δ|^α / mean |δ|^α). */
  stochasticAlpha?: number;
  seed: number;
  /**
   * Seeds batched over the agents (default 1; algorithms/seeds.ts): agent a·seeds + k is seed k's
   * agent a and draws as agent a of a run seeded `seed + k`.
   */
  seeds?: number;
  label: string;
}

/** A bound selection. */
export interface SuperSelect {
  /** [numAgents, n] u32 share flags of the last `encode`. */
  readonly flags: Tensor<"u32">;
  /** Compaction of `flags`: `indices [numAgents, n]` and `counts [numAgents]` (relay format). */
  readonly compact: Compact;
  /** [numAgents] f32: Σ|δ| over the fragment. */
  readonly sums: Tensor<"f32">;
  /**
   * [numAgents] f32 (stochastic rule, else null): Σ a^α over the normaliser's m values, the
   * fragment (m = n) or the filled window (m = min(pushed, window)); `sums` itself when α = 1 over
   * the fragment.
   */
  readonly prioritySum: Tensor<"f32"> | null;
  /** [numAgents, 3] f32 accumulated per relay (zeroed by the reader): rows shared, rows scored, Σ|δ|. */
  readonly metrics: Tensor<"f32">;
  /** State to checkpoint: window, window counts, clock. */
  readonly state: Record<string, Tensor>;
  /** Records Σ|δ|, the window update and statistics, the flags and the compaction. */
  encode(enc: Encoder): void;
  /** Records the metric and clock updates (after the relay). */
  advance(enc: Encoder): void;
}

/**
 * Builds SUPER's selection for one fragment size, labelled `<label>.*`.
 *
 * @param engine Engine that owns the device.
 * @param o Scores, sizes, rule and its parameters, seed and label.
 * @returns A {@linkcode SuperSelect}; `encode` then `advance` once per relay.
 */
export async function createSuperSelect(
  engine: Engine,
  o: SuperSelectOptions,
): Promise<SuperSelect> {
  const { numAgents, n, label, mode } = o;
  const beta = o.bandwidth;
  if (!(beta >= 0 && beta <= 1)) {
    throw new RangeError(`Cannot build "${label}": bandwidth ${beta} must be in [0, 1]`);
  }
  if (!(Number.isInteger(o.window) && o.window >= 1)) {
    throw new RangeError(`Cannot build "${label}": window ${o.window} must be an integer >= 1`);
  }
  if (!(Number.isInteger(n) && n >= 1)) {
    throw new RangeError(`Cannot build "${label}": n ${n} must be an integer >= 1`);
  }
  if (o.absTd.dtype !== "f32" || o.absTd.size !== numAgents * n) {
    throw new TypeError(
      `Cannot build "${label}": absTd "${o.absTd.label}" is ${o.absTd.dtype} [${o.absTd.shape}], needs f32 [${numAgents}, ${n}]`,
    );
  }
  if (!["quantile", "gaussian", "stochastic"].includes(mode)) {
    throw new TypeError(`Cannot build "${label}": unknown mode "${mode}"`);
  }
  const normaliser = o.stochasticNormaliser ?? "batch", alpha = o.stochasticAlpha ?? 1;
  if (normaliser !== "batch" && normaliser !== "window") {
    throw new TypeError(`Cannot build "${label}": unknown stochastic normaliser "${normaliser}"`);
  }
  if (!(Number.isFinite(alpha) && alpha > 0)) {
    throw new RangeError(
      `Cannot build "${label}": stochastic alpha ${alpha} must be finite and > 0`,
    );
  }
  const seeds = o.seeds ?? 1;
  if (!(Number.isInteger(seeds) && seeds >= 1 && numAgents % seeds === 0)) {
    throw new RangeError(`Cannot build "${label}": seeds ${seeds} must divide ${numAgents} agents`);
  }
  const useWindow = mode !== "stochastic" || normaliser === "window";
  const capacity = o.window;
  const flags = engine.tensor({ dtype: "u32", shape: [numAgents, n], label: `${label}.flags` });
  const window = engine.tensor({
    dtype: "f32",
    shape: [numAgents, capacity],
    label: `${label}.window`,
  });
  const count = engine.tensor({ dtype: "u32", shape: [numAgents], label: `${label}.count` });
  const clock = engine.tensor({ dtype: "u32", shape: [1], label: `${label}.clock` });
  const metrics = engine.tensor({ dtype: "f32", shape: [numAgents, 3], label: `${label}.metrics` });
  const c = normalQuantile(1 - beta);
  const p: SuperParams = {
    numAgents,
    numEnvs: 1,
    fragment: 1,
    n,
    capacity,
    // Gaussian: 1 shares everything (β = 1, τ = −∞), 2 nothing (β = 0, τ = +∞).
    mode: c === -Infinity ? 1 : c === Infinity ? 2 : 0,
    c: Number.isFinite(c) ? c : 0,
    useStd: o.gaussianScale === "std" ? 1 : 0,
    beta,
    seed: o.seed >>> 0,
    purpose: RNG_PURPOSE.share,
    alpha,
    normaliser: normaliser === "window" ? 1 : 0,
    seeds,
  };
  const sum = await createReduce(engine, {
    x: o.absTd,
    numSegments: numAgents,
    n,
    op: "sum",
    label: `${label}.sum`,
  });
  const steps: { encode(enc: Encoder): void }[] = [sum];
  let prioritySum: Tensor<"f32"> | null = null;
  if (useWindow) {
    const [kPush, kCount] = await Promise.all([
      compileKernel(engine, superWindowPush),
      compileKernel(engine, superWindowCount),
    ]);
    steps.push(
      kPush.bind({ absTd: o.absTd, countIn: count, window }, p, `${label}.windowPush`),
      kCount.bind({ count }, p, `${label}.windowCount`),
    );
  }
  if (mode === "quantile") {
    const q = await createWindowQuantile(engine, {
      window,
      count,
      numAgents,
      capacity,
      qs: [1 - beta],
      label: `${label}.quantile`,
    });
    const k = await compileKernel(engine, superSelectQuantile);
    steps.push(q, k.bind({ absTd: o.absTd, threshold: q.out, flags }, p, `${label}.select`));
  } else if (mode === "gaussian") {
    const m = await createWindowMoments(engine, {
      window,
      count,
      numAgents,
      capacity,
      label: `${label}.moments`,
    });
    const k = await compileKernel(engine, superSelectGaussian);
    steps.push(m, k.bind({ absTd: o.absTd, moments: m.moments, flags }, p, `${label}.select`));
  } else {
    // Σ of the priorities the mean is taken over; with α = 1 over the fragment that is Σ|δ| itself.
    let norm = sum;
    if (normaliser === "window" || alpha !== 1) {
      const segment = normaliser === "window" ? capacity : n;
      const prio = engine.tensor({
        dtype: "f32",
        shape: [numAgents, segment],
        label: `${label}.priority`,
      });
      const kPrio = normaliser === "window"
        ? (await compileKernel(engine, superWindowPriority)).bind(
          { windowIn: window, countIn: count, prio },
          p,
          `${label}.windowPriority`,
        )
        : (await compileKernel(engine, superBatchPriority)).bind(
          { absTd: o.absTd, prio },
          p,
          `${label}.batchPriority`,
        );
      norm = await createReduce(engine, {
        x: prio,
        numSegments: numAgents,
        n: segment,
        op: "sum",
        label: `${label}.prioritySum`,
      });
      steps.push(kPrio, norm);
    }
    prioritySum = norm.out;
    const k = await compileKernel(engine, superSelectStochastic);
    steps.push(
      k.bind(
        { absTd: o.absTd, sums: norm.out, countIn: count, clock, flags },
        p,
        `${label}.select`,
      ),
    );
  }
  const compact = await createCompact(engine, {
    flags,
    numSegments: numAgents,
    n,
    seeds,
    label: `${label}.compact`,
  });
  steps.push(compact);
  const kAdv = await compileKernel(engine, superAdvance);
  const adv = kAdv.bind(
    { sums: sum.out, sharedCount: compact.counts, metrics, clockOut: clock },
    p,
    `${label}.advance`,
  );
  return {
    flags,
    compact,
    sums: sum.out,
    prioritySum,
    metrics,
    state: { window, count, clock },
    encode(enc) {
      for (const s of steps) s.encode(enc);
    },
    advance: (enc) => adv.encode(enc),
  };
}
