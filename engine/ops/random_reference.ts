/**
 * CPU reference of engine/ops/random.ts. The hash and the f32 sampling protocols come from the TS
 * twins in engine/rng.ts (bit-identical to shaders/common/_rng.wgsl); the mapping of elements and
 * rows to counters, and the affine transforms, are written here from the documented layout.
 *
 * @module
 */
import {
  rngBelow,
  rngBernoulli,
  rngCategorical,
  rngCategoricalLogits,
  rngGumbel,
  rngNormal,
  rngU32,
  rngUnit,
} from "../rng.ts";
import type { Distribution, RandomKey } from "./random.ts";

/** Expected contents of a [rows, cols] tensor filled by `createRandomFill` (float64 transforms). */
export function randomFillReference(
  rows: number,
  cols: number,
  key: RandomKey & { dist: Distribution },
): Float64Array {
  const { seed, purpose, dist } = key;
  const step = key.step ?? 0, draw = key.draw ?? 0;
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const h = rngU32(seed, purpose, c, r, step, draw);
      let v: number;
      switch (dist.kind) {
        case "bits":
          v = h;
          break;
        case "uniform":
          v = dist.lo + (dist.hi - dist.lo) * rngUnit(h);
          break;
        case "below":
          v = rngBelow(h, dist.k);
          break;
        case "normal":
          v = dist.mean +
            dist.std * rngNormal(
                rngU32(seed, purpose, c, r, step, 2 * draw),
                rngU32(seed, purpose, c, r, step, 2 * draw + 1),
              );
          break;
        case "gumbel":
          v = rngGumbel(h);
          break;
        case "bernoulli":
          v = rngBernoulli(h, dist.p);
          break;
      }
      out[r * cols + c] = v;
    }
  }
  return out;
}

/** Expected choices [numAgents, numEnvs] of `createCategorical` for `input` [.., numActions]. */
export function categoricalReference(
  input: ArrayLike<number>,
  o: RandomKey & {
    from: "probs" | "logits";
    numAgents: number;
    numEnvs: number;
    numActions: number;
  },
): Uint32Array {
  const K = o.numActions, step = o.step ?? 0, draw = o.draw ?? 0;
  const out = new Uint32Array(o.numAgents * o.numEnvs);
  for (let a = 0; a < o.numAgents; a++) {
    for (let e = 0; e < o.numEnvs; e++) {
      const r = a * o.numEnvs + e;
      const row = Array.prototype.slice.call(input, r * K, r * K + K) as number[];
      out[r] = o.from === "probs"
        ? rngCategorical(rngU32(o.seed, o.purpose, e, a, step, draw), row)
        : rngCategoricalLogits(o.seed, o.purpose, e, a, step, row);
    }
  }
  return out;
}
