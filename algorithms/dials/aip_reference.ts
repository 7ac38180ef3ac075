/**
 * Plain-TS references of the AIP losses (docs/algorithms/dials.md §4), written from the maths in float64 on one
 * agent's flat parameter block (layout of `algorithms/ppo/policy.ts` `trunkLayout`):
 * - feed-forward (traffic): Linear(D → H) ReLU → Linear(H → S), BCE with logits averaged over
 *   (sample, source), with its gradient;
 * - recurrent (warehouse): GRU(D → H) from a zero state (PyTorch gates r, z, n) → Linear(H → S·C),
 *   softmax cross-entropy per source averaged over (step, sequence, source) (loss only).
 * Inputs are rescaled (x − 0.5)/0.5 inside, as the predictor does.
 *
 * @module
 */
import { logSoftmaxReference } from "../../engine/ops/policy_reference.ts";

const rescale = (x: number) => (x - 0.5) / 0.5;

/** BCE-with-logits loss of the feed-forward AIP and ∂loss/∂params. */
export function aipBceReference(o: {
  params: ArrayLike<number>;
  /** [rows][D] raw inputs. */
  inputs: number[][];
  /** [rows][S] 0/1 targets. */
  targets: number[][];
  hidden: number;
}): { loss: number; grad: Float64Array } {
  const { params: p, hidden: H } = o, D = o.inputs[0].length, S = o.targets[0].length;
  const w1 = 0, b1 = H * D, w2 = b1 + H, b2 = w2 + S * H;
  const grad = new Float64Array(b2 + S);
  const n = o.inputs.length * S;
  let loss = 0;
  o.inputs.forEach((raw, r) => {
    const x = raw.map(rescale);
    const h = Array.from({ length: H }, (_, j) => {
      let s = p[b1 + j];
      for (let i = 0; i < D; i++) s += p[w1 + j * D + i] * x[i];
      return Math.max(s, 0);
    });
    const dh = new Array<number>(H).fill(0);
    for (let k = 0; k < S; k++) {
      let z = p[b2 + k];
      for (let j = 0; j < H; j++) z += p[w2 + k * H + j] * h[j];
      const y = o.targets[r][k];
      loss += Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z)));
      const g = (1 / (1 + Math.exp(-z)) - y) / n;
      grad[b2 + k] += g;
      for (let j = 0; j < H; j++) {
        grad[w2 + k * H + j] += g * h[j];
        dh[j] += g * p[w2 + k * H + j];
      }
    }
    for (let j = 0; j < H; j++) {
      if (h[j] <= 0) continue;
      grad[b1 + j] += dh[j];
      for (let i = 0; i < D; i++) grad[w1 + j * D + i] += dh[j] * x[i];
    }
  });
  return { loss: loss / n, grad };
}

/** Softmax cross-entropy of the recurrent AIP over whole sequences (zero initial state). */
export function aipGruCeReference(o: {
  params: ArrayLike<number>;
  /** [sequences][steps][D] raw inputs. */
  inputs: number[][][];
  /** [sequences][steps][S] class labels. */
  targets: number[][][];
  hidden: number;
  classes: number;
}): number {
  const { params: p, hidden: H, classes: C } = o;
  const D = o.inputs[0][0].length, S = o.targets[0][0].length;
  const wih = 0, whh = 3 * H * D, bih = whh + 3 * H * H, bhh = bih + 3 * H;
  const wo = bhh + 3 * H, bo = wo + S * C * H;
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  let loss = 0, count = 0;
  o.inputs.forEach((seq, q) => {
    let h = new Array<number>(H).fill(0);
    seq.forEach((raw, t) => {
      const x = raw.map(rescale);
      const gi = (g: number, j: number) => {
        let s = p[bih + g * H + j];
        for (let i = 0; i < D; i++) s += p[wih + (g * H + j) * D + i] * x[i];
        return s;
      };
      const gh = (g: number, j: number) => {
        let s = p[bhh + g * H + j];
        for (let i = 0; i < H; i++) s += p[whh + (g * H + j) * H + i] * h[i];
        return s;
      };
      h = Array.from({ length: H }, (_, j) => {
        const r = sig(gi(0, j) + gh(0, j));
        const z = sig(gi(1, j) + gh(1, j));
        const n = Math.tanh(gi(2, j) + r * gh(2, j));
        return (1 - z) * n + z * h[j];
      });
      for (let s = 0; s < S; s++) {
        const logits = Array.from({ length: C }, (_, c) => {
          let v = p[bo + s * C + c];
          for (let j = 0; j < H; j++) v += p[wo + (s * C + c) * H + j] * h[j];
          return v;
        });
        const logp = logSoftmaxReference({ rows: 1, k: C, logits });
        loss -= logp[o.targets[q][t][s]];
        count++;
      }
    });
  });
  return loss / count;
}
