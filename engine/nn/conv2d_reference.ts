/**
 * CPU reference of the conv layer (float64), written from PyTorch's definition, not from the WGSL:
 * it permutes NHWC → NCHW, convolves channels-first with `W [cout, cin, k, k]`, and permutes back.
 * The backward pass scatters each output's gradient (the GPU gathers).
 *
 * @module
 */
import type { Activation } from "./linear.ts";

/** Sizes and weights of one reference call; w holds every agent's block of `stride` values. */
export interface Conv2dRefArgs {
  numAgents: number;
  batch: number;
  h: number;
  w: number;
  cin: number;
  cout: number;
  k: number;
  stride: number;
  offset: number;
  activation: Activation;
  /** Input [numAgents, batch, h, w, cin] (NHWC). */
  x: ArrayLike<number>;
  /** Parameters [numAgents, stride]. */
  weights: ArrayLike<number>;
}

function act(z: number, a: Activation): number {
  return a === "relu" ? Math.max(z, 0) : a === "tanh" ? Math.tanh(z) : z;
}

/** d act / dz at pre-activation z. */
function actGrad(z: number, a: Activation): number {
  if (a === "relu") return z > 0 ? 1 : 0;
  if (a === "tanh") return 1 - Math.tanh(z) ** 2;
  return 1;
}

/** [images, h, w, c] → [images, c, h, w]. */
function toNchw(src: ArrayLike<number>, images: number, h: number, w: number, c: number) {
  const out = new Float64Array(images * c * h * w);
  for (let n = 0; n < images; n++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let ch = 0; ch < c; ch++) {
          out[((n * c + ch) * h + y) * w + x] = src[((n * h + y) * w + x) * c + ch];
        }
      }
    }
  }
  return out;
}

/** [images, c, h, w] → [images, h, w, c]. */
function toNhwc(src: ArrayLike<number>, images: number, h: number, w: number, c: number) {
  const out = new Float64Array(images * h * w * c);
  for (let n = 0; n < images; n++) {
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          out[((n * h + y) * w + x) * c + ch] = src[((n * c + ch) * h + y) * w + x];
        }
      }
    }
  }
  return out;
}

/** Pre-activations z [numAgents·batch, cout, outH, outW] (NCHW) and the NCHW input. */
function preActivations(r: Conv2dRefArgs): { z: Float64Array; xc: Float64Array } {
  const { numAgents: A, batch: B, h: H, w: W, cin: C, cout: O, k: K } = r;
  const oh = H - K + 1, ow = W - K + 1;
  const xc = toNchw(r.x, A * B, H, W, C);
  const z = new Float64Array(A * B * O * oh * ow);
  for (let a = 0; a < A; a++) {
    const wb = a * r.stride + r.offset, bb = wb + O * C * K * K;
    const weight = (o: number, c: number, ky: number, kx: number) =>
      r.weights[wb + ((o * C + c) * K + ky) * K + kx];
    for (let n = a * B; n < (a + 1) * B; n++) {
      for (let o = 0; o < O; o++) {
        for (let oy = 0; oy < oh; oy++) {
          for (let ox = 0; ox < ow; ox++) {
            let s = r.weights[bb + o];
            for (let c = 0; c < C; c++) {
              for (let ky = 0; ky < K; ky++) {
                for (let kx = 0; kx < K; kx++) {
                  s += xc[((n * C + c) * H + oy + ky) * W + ox + kx] * weight(o, c, ky, kx);
                }
              }
            }
            z[((n * O + o) * oh + oy) * ow + ox] = s;
          }
        }
      }
    }
  }
  return { z, xc };
}

/** y [numAgents, batch, h − k + 1, w − k + 1, cout] (NHWC) = act(conv(x, W) + b). */
export function conv2dForwardReference(r: Conv2dRefArgs): Float64Array {
  const { z } = preActivations(r);
  const yc = z.map((v) => act(v, r.activation));
  return toNhwc(yc, r.numAgents * r.batch, r.h - r.k + 1, r.w - r.k + 1, r.cout);
}

/**
 * Gradients of Σ dy ⊙ y w.r.t. x (NHWC, like x) and the agent blocks of the parameters (same
 * layout as `weights`, zero outside this layer). `dy` is NHWC like y.
 */
export function conv2dBackwardReference(
  r: Conv2dRefArgs & { dy: ArrayLike<number> },
): { dx: Float64Array; dw: Float64Array } {
  const { numAgents: A, batch: B, h: H, w: W, cin: C, cout: O, k: K } = r;
  const oh = H - K + 1, ow = W - K + 1;
  const { z, xc } = preActivations(r);
  const dyc = toNchw(r.dy, A * B, oh, ow, O);
  const dxc = new Float64Array(xc.length);
  const dw = new Float64Array(A * r.stride);
  for (let a = 0; a < A; a++) {
    const wb = a * r.stride + r.offset, bb = wb + O * C * K * K;
    for (let n = a * B; n < (a + 1) * B; n++) {
      for (let o = 0; o < O; o++) {
        for (let oy = 0; oy < oh; oy++) {
          for (let ox = 0; ox < ow; ox++) {
            const q = ((n * O + o) * oh + oy) * ow + ox;
            const g = dyc[q] * actGrad(z[q], r.activation);
            dw[bb + o] += g;
            for (let c = 0; c < C; c++) {
              for (let ky = 0; ky < K; ky++) {
                for (let kx = 0; kx < K; kx++) {
                  const wi = wb + ((o * C + c) * K + ky) * K + kx;
                  const xi = ((n * C + c) * H + oy + ky) * W + ox + kx;
                  dw[wi] += g * xc[xi];
                  dxc[xi] += g * r.weights[wi];
                }
              }
            }
          }
        }
      }
    }
  }
  return { dx: toNhwc(dxc, A * B, H, W, C), dw };
}
