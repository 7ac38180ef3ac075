/**
 * CPU reference of the dense layer (float64), written from the maths, not from the WGSL.
 *
 * @module
 */
import type { Activation } from "./linear.ts";

/** Sizes and weights of one reference call; w holds every agent's block of `stride` values. */
export interface LinearRefArgs {
  numAgents: number;
  batch: number;
  inDim: number;
  outDim: number;
  stride: number;
  offset: number;
  activation: Activation;
  x: ArrayLike<number>;
  w: ArrayLike<number>;
}

function act(z: number, a: Activation): number {
  return a === "relu" ? Math.max(z, 0) : a === "tanh" ? Math.tanh(z) : z;
}

/** y[a, b, o] = act(Σ_i x[a, b, i] W[a, o, i] + bias[a, o]). */
export function linearForwardReference(r: LinearRefArgs): Float64Array {
  const { numAgents: A, batch: B, inDim: I, outDim: O, stride, offset } = r;
  const y = new Float64Array(A * B * O);
  for (let a = 0; a < A; a++) {
    const wb = a * stride + offset, bb = wb + I * O;
    for (let b = 0; b < B; b++) {
      for (let o = 0; o < O; o++) {
        let z = r.w[bb + o];
        for (let i = 0; i < I; i++) z += r.x[(a * B + b) * I + i] * r.w[wb + o * I + i];
        y[(a * B + b) * O + o] = act(z, r.activation);
      }
    }
  }
  return y;
}

/** Gradients of Σ dy ⊙ y w.r.t. x and the agent blocks of w (same layout as w). */
export function linearBackwardReference(
  r: LinearRefArgs & { dy: ArrayLike<number> },
): { dx: Float64Array; dw: Float64Array } {
  const { numAgents: A, batch: B, inDim: I, outDim: O, stride, offset } = r;
  const y = linearForwardReference(r);
  const dx = new Float64Array(A * B * I);
  const dw = new Float64Array(A * stride);
  for (let a = 0; a < A; a++) {
    const wb = a * stride + offset, bb = wb + I * O;
    for (let b = 0; b < B; b++) {
      for (let o = 0; o < O; o++) {
        const out = y[(a * B + b) * O + o];
        const g = r.activation === "relu"
          ? (out > 0 ? 1 : 0)
          : r.activation === "tanh"
          ? 1 - out * out
          : 1;
        const dz = r.dy[(a * B + b) * O + o] * g;
        dw[bb + o] += dz;
        for (let i = 0; i < I; i++) {
          dw[wb + o * I + i] += dz * r.x[(a * B + b) * I + i];
          dx[(a * B + b) * I + i] += dz * r.w[wb + o * I + i];
        }
      }
    }
  }
  return { dx, dw };
}
