/**
 * CPU reference of the channels-first flatten, written from PyTorch's definition
 * (`x.permute(0, 3, 1, 2).flatten(1)` on NHWC rows), not from the WGSL.
 *
 * @module
 */

/** Sizes of one reference call; rows = numAgents·batch, each an NHWC map. */
export interface FlattenRefArgs {
  numAgents: number;
  batch: number;
  height: number;
  width: number;
  channels: number;
}

/** NHWC rows → channels-first rows: permute each row to (C, H, W), then read it in order. */
export function flattenForwardReference(
  r: FlattenRefArgs & { x: ArrayLike<number> },
): Float64Array {
  const { height: H, width: W, channels: C } = r;
  const rows = r.numAgents * r.batch;
  const out = new Float64Array(rows * C * H * W);
  let k = 0;
  for (let n = 0; n < rows; n++) {
    for (let c = 0; c < C; c++) {
      for (let h = 0; h < H; h++) {
        for (let w = 0; w < W; w++) out[k++] = r.x[((n * H + h) * W + w) * C + c];
      }
    }
  }
  return out;
}

/** Gradient of Σ dy ⊙ flatten(x) w.r.t. x: each dy value goes back to the x it was read from. */
export function flattenBackwardReference(
  r: FlattenRefArgs & { dy: ArrayLike<number> },
): Float64Array {
  const { height: H, width: W, channels: C } = r;
  const rows = r.numAgents * r.batch;
  const dx = new Float64Array(rows * H * W * C);
  let k = 0;
  for (let n = 0; n < rows; n++) {
    for (let c = 0; c < C; c++) {
      for (let h = 0; h < H; h++) {
        for (let w = 0; w < W; w++) dx[((n * H + h) * W + w) * C + c] += r.dy[k++];
      }
    }
  }
  return dx;
}
