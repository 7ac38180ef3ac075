/**
 * GPU random draws from the counter-based hash (`shaders/common/_rng.wgsl`): tensors filled with
 * bits, uniform, integer, normal, Gumbel or Bernoulli draws, and categorical sampling per
 * (agent, env) row from probabilities (inverse CDF) or logits (Gumbel-max).
 *
 * @module
 */
import type { Engine } from "../device.ts";
import type { Encoder } from "../encoder.ts";
import { compileKernel, defineKernel } from "../kernel.ts";
import { assertShape, type Tensor } from "../tensor.ts";

const SHADER = "engine/ops/random.wgsl";
const INCLUDES = ["common/_index.wgsl", "common/_rng.wgsl", "common/_categorical.wgsl"] as const;
const PARAMS = {
  rows: "u32",
  cols: "u32",
  seed: "u32",
  purpose: "u32",
  step: "u32",
  draw: "u32",
  dist: "u32",
  k: "u32",
  lo: "f32",
  hi: "f32",
} as const;

/** out[r, c] = a draw keyed rngU32(seed, purpose, c, r, step, draw); one thread per element. */
export const randomFill = defineKernel({
  name: "random.fill",
  shader: SHADER,
  entryPoint: "fill",
  includes: INCLUDES,
  bindings: { out: "write" },
  params: PARAMS,
  threads: (p) => p.rows * p.cols,
});

/** choice[a, e] ~ Categorical(probs[a, e, :] / Σ) by inverse CDF; one thread per row. */
export const randomCategoricalProbs = defineKernel({
  name: "random.categoricalProbs",
  shader: SHADER,
  entryPoint: "categoricalProbs",
  includes: INCLUDES,
  bindings: { probs: "read", choice: "write" },
  params: PARAMS,
  threads: (p) => p.rows,
});

/** choice[a, e] = argmax_i logits[a, e, i] + Gumbel noise; one thread per row. */
export const randomCategoricalLogits = defineKernel({
  name: "random.categoricalLogits",
  shader: SHADER,
  entryPoint: "categoricalLogits",
  includes: INCLUDES,
  bindings: { logits: "read", choice: "write" },
  params: PARAMS,
  threads: (p) => p.rows,
});

/** Distribution of {@linkcode createRandomFill}; f32 results are written into f32 tensors. */
export type Distribution =
  | { kind: "bits" }
  | { kind: "uniform"; lo: number; hi: number }
  | { kind: "below"; k: number }
  | { kind: "normal"; mean: number; std: number }
  | { kind: "gumbel" }
  | { kind: "bernoulli"; p: number };

/** The `dist` code of each distribution in random.wgsl. */
export const DIST_CODE: Readonly<Record<Distribution["kind"], number>> = {
  bits: 0,
  uniform: 1,
  below: 2,
  normal: 3,
  gumbel: 4,
  bernoulli: 5,
};

const INT_KINDS = new Set(["bits", "below", "bernoulli"]);

/** Counter of a draw: stream (seed, purpose), the step, and the draw index inside the step. */
export interface RandomKey {
  seed: number;
  purpose: number;
  step?: number;
  draw?: number;
}

/** A bound random kernel; `setStep` rewrites the step for the next submit (last write wins). */
export interface RandomOp {
  encode(enc: Encoder): void;
  setStep(step: number): void;
}

/** Options of {@linkcode createRandomFill}. */
export interface RandomFillOptions extends RandomKey {
  /** Output [rows, cols] (leading axes fold into rows): u32 for bits/below/bernoulli, else f32. */
  out: Tensor;
  dist: Distribution;
  label: string;
}

/**
 * Builds a fill of `out` with draws of `dist`; element (r, c) uses rngU32(seed, purpose, c, r,
 * step, draw) (normal: draws 2·draw and 2·draw + 1, Box–Muller).
 *
 * @param engine Engine that owns the device.
 * @param o Output tensor, distribution, key and label.
 * @returns A {@linkcode RandomOp} that writes every element of `out`.
 */
export async function createRandomFill(engine: Engine, o: RandomFillOptions): Promise<RandomOp> {
  const d = o.dist;
  const wantInt = INT_KINDS.has(d.kind);
  if (wantInt !== (o.out.dtype === "u32")) {
    throw new TypeError(
      `Cannot build "${o.label}": "${d.kind}" draws need a ${
        wantInt ? "u32" : "f32"
      } tensor, "${o.out.label}" is ${o.out.dtype}`,
    );
  }
  if (!wantInt && o.out.dtype !== "f32") {
    throw new TypeError(`Cannot build "${o.label}": "${o.out.label}" is ${o.out.dtype}, not f32`);
  }
  if (d.kind === "below" && !(Number.isInteger(d.k) && d.k >= 1)) {
    throw new RangeError(`Cannot build "${o.label}": k must be an integer >= 1, got ${d.k}`);
  }
  const cols = o.out.shape.length ? o.out.shape[o.out.shape.length - 1] : 1;
  const rows = cols === 0 ? 0 : o.out.size / cols;
  const [lo, hi] = d.kind === "uniform"
    ? [d.lo, d.hi]
    : d.kind === "normal"
    ? [d.mean, d.std]
    : d.kind === "bernoulli"
    ? [d.p, 0]
    : [0, 0];
  const k = await compileKernel(engine, randomFill);
  const dispatch = k.bind({ out: o.out }, {
    rows,
    cols,
    seed: o.seed >>> 0,
    purpose: o.purpose,
    step: o.step ?? 0,
    draw: o.draw ?? 0,
    dist: DIST_CODE[d.kind],
    k: d.kind === "below" ? d.k : 0,
    lo,
    hi,
  }, o.label);
  return {
    encode: (enc) => dispatch.encode(enc),
    setStep: (step) => dispatch.writeParams({ step }),
  };
}

/** Options of {@linkcode createCategorical}. */
export interface CategoricalOptions extends RandomKey {
  /** Probabilities (unnormalised, ≥ 0) or logits, [numAgents, numEnvs, numActions] f32. */
  input: Tensor;
  from: "probs" | "logits";
  /** Chosen category per row, [numAgents, numEnvs] u32. */
  choice: Tensor;
  numAgents: number;
  numEnvs: number;
  numActions: number;
  label: string;
}

/**
 * Builds categorical sampling per (agent, env) row: row (agent, env) uses the stream
 * rngU32(seed, purpose, env, agent, step, ·) (inverse CDF: draw `draw`; Gumbel-max: draw i for
 * category i). Matches `rngCategorical` / `rngCategoricalLogits` in engine/rng.ts.
 *
 * @param engine Engine that owns the device.
 * @param o Input, output, sizes, key and label.
 * @returns A {@linkcode RandomOp} that writes `choice`.
 */
export async function createCategorical(
  engine: Engine,
  o: CategoricalOptions,
): Promise<RandomOp> {
  const rows = o.numAgents * o.numEnvs;
  if (o.numActions < 1) {
    throw new RangeError(`Cannot build "${o.label}": numActions is ${o.numActions}, needs >= 1`);
  }
  assertShape(o.input, [o.numAgents, o.numEnvs, o.numActions], {
    op: o.label,
    name: "input",
    dtype: "f32",
  });
  assertShape(o.choice, [o.numAgents, o.numEnvs], { op: o.label, name: "choice", dtype: "u32" });
  const p = {
    rows,
    cols: o.numEnvs,
    seed: o.seed >>> 0,
    purpose: o.purpose,
    step: o.step ?? 0,
    draw: o.draw ?? 0,
    dist: 0,
    k: o.numActions,
    lo: 0,
    hi: 0,
  };
  const dispatch = o.from === "probs"
    ? (await compileKernel(engine, randomCategoricalProbs)).bind(
      { probs: o.input, choice: o.choice },
      p,
      o.label,
    )
    : (await compileKernel(engine, randomCategoricalLogits)).bind(
      { logits: o.input, choice: o.choice },
      p,
      o.label,
    );
  return {
    encode: (enc) => dispatch.encode(enc),
    setStep: (step) => dispatch.writeParams({ step }),
  };
}
