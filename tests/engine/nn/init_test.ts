import {
  fans,
  fillOrthogonal,
  initNetParams,
  linearInit,
  type ParamTensor,
} from "../../../engine/init.ts";
import { linearParamCount } from "../../../engine/nn/linear.ts";
import { HostRng, RNG_PURPOSE } from "../../../engine/rng.ts";
import { assertAllClose, assertExact } from "../../_testing.ts";

function stats(x: ArrayLike<number>) {
  let sum = 0, min = Infinity, max = -Infinity;
  for (let i = 0; i < x.length; i++) {
    sum += x[i];
    min = Math.min(min, x[i]);
    max = Math.max(max, x[i]);
  }
  const mean = sum / x.length;
  let sq = 0;
  for (let i = 0; i < x.length; i++) sq += (x[i] - mean) ** 2;
  return { mean, std: Math.sqrt(sq / x.length), min, max };
}

/** Checks a sample against U(−bound, bound): range, coverage, mean and std. */
function assertUniform(x: ArrayLike<number>, bound: number, what: string): void {
  const s = stats(x), sd = bound / Math.sqrt(3), n = x.length;
  const problems: string[] = [];
  if (s.min < -bound || s.max > bound) {
    problems.push(`range [${s.min}, ${s.max}] exceeds ±${bound}`);
  }
  if (s.min > -0.95 * bound || s.max < 0.95 * bound) {
    problems.push(`range [${s.min}, ${s.max}] does not cover ±${bound}`);
  }
  if (Math.abs(s.mean) > 5 * sd / Math.sqrt(n)) problems.push(`mean ${s.mean} is not ≈ 0`);
  if (Math.abs(s.std / sd - 1) > 0.05) problems.push(`std ${s.std}, want ${sd}`);
  if (problems.length) throw new Error(`${what}: ${problems.join("; ")}`);
}

/** Product of row-major matrices a [r, k] and b [k, c] in float64. */
function matmul(a: ArrayLike<number>, b: ArrayLike<number>, r: number, k: number, c: number) {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < c; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += a[i * k + t] * b[t * c + j];
      out[i * c + j] = s;
    }
  }
  return out;
}

function transpose(a: ArrayLike<number>, r: number, c: number): Float64Array {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = a[i * c + j];
  return out;
}

function identity(n: number, scale: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) out[i * n + i] = scale;
  return out;
}

Deno.test("initNetParams() torchDefault draws U(±1/√fanIn) for weights and biases", () => {
  const inDim = 64, outDim = 128, offset = 3;
  const stride = offset + linearParamCount(inDim, outDim) + 5;
  const out = initNetParams({
    numAgents: 2,
    stride,
    seed: 1,
    tensors: linearInit({ offset, inDim, outDim }),
  });
  for (let a = 0; a < 2; a++) {
    const w = out.subarray(a * stride + offset, a * stride + offset + inDim * outDim);
    const b = out.subarray(
      a * stride + offset + inDim * outDim,
      a * stride + offset + inDim * outDim + outDim,
    );
    assertUniform(w, 1 / 8, `agent ${a} weight`);
    const sb = stats(b);
    if (sb.min < -1 / 8 || sb.max > 1 / 8 || sb.max - sb.min < 0.15) {
      throw new Error(`agent ${a} bias: range [${sb.min}, ${sb.max}] is not in ±1/8 or too narrow`);
    }
    // Values outside every tensor stay zero.
    assertExact(out.subarray(a * stride, a * stride + offset), [0, 0, 0], "gap before");
    assertExact(out.subarray((a + 1) * stride - 5, (a + 1) * stride), [0, 0, 0, 0, 0], "gap after");
  }
});

Deno.test("initNetParams() xavierUniform and zeros follow their definitions", () => {
  const tensors: ParamTensor[] = [
    { offset: 0, shape: [48, 80], init: { kind: "xavierUniform", gain: 2 } },
    { offset: 48 * 80, shape: [8, 3, 4, 4], init: { kind: "xavierUniform" } },
    { offset: 48 * 80 + 384, shape: [40], init: { kind: "zeros" } },
  ];
  const stride = 48 * 80 + 384 + 40;
  const out = initNetParams({ numAgents: 1, stride, seed: 9, tensors });
  assertUniform(out.subarray(0, 48 * 80), 2 * Math.sqrt(6 / 128), "xavier 2-D");
  // Conv weight [out 8, in 3, 4×4]: fanIn 48, fanOut 128.
  assertExact([fans([8, 3, 4, 4]).fanIn, fans([8, 3, 4, 4]).fanOut], [48, 128], "conv fans");
  assertUniform(out.subarray(48 * 80, 48 * 80 + 384), Math.sqrt(6 / 176), "xavier conv");
  assertExact(out.subarray(stride - 40), new Float32Array(40), "zeros");
});

for (const [rows, cols, gain] of [[64, 17, Math.SQRT2], [9, 33, 0.01], [16, 16, 1]] as const) {
  Deno.test(`fillOrthogonal() gives orthonormal ${rows}×${cols} weights with gain ${gain.toFixed(2)}`, () => {
    const w = new Float32Array(rows * cols + 7);
    fillOrthogonal(w, { offset: 7, rows, cols, gain, rng: new HostRng(3, RNG_PURPOSE.init, 0, 0) });
    const m = w.subarray(7);
    const tol = { atol: 1e-6 * gain * gain + 1e-12, rtol: 1e-5 };
    if (rows >= cols) {
      assertAllClose(
        matmul(transpose(m, rows, cols), m, cols, rows, cols),
        identity(cols, gain * gain),
        tol,
        "WᵀW",
      );
    }
    if (rows <= cols) {
      assertAllClose(
        matmul(m, transpose(m, rows, cols), rows, cols, rows),
        identity(rows, gain * gain),
        tol,
        "WWᵀ",
      );
    }
    // Sign correction: Q is the QR factor of the same Gaussian matrix whose R has a positive
    // diagonal. R = Qᵀ A (tall) or R = Q·Aᵀ with Q = W (wide) must be upper triangular, diag > 0.
    const g = new HostRng(3, RNG_PURPOSE.init, 0, 0);
    const gauss = Float64Array.from({ length: rows * cols }, () => g.normal());
    const k = Math.min(rows, cols);
    const q = Float64Array.from(m, (x) => x / gain);
    const r = rows >= cols
      ? matmul(transpose(q, rows, cols), gauss, cols, rows, cols)
      : matmul(q, transpose(gauss, rows, cols), rows, cols, rows);
    for (let i = 0; i < k; i++) {
      if (!(r[i * k + i] > 0)) throw new Error(`R[${i}, ${i}] = ${r[i * k + i]} is not > 0`);
      for (let j = 0; j < i; j++) {
        if (Math.abs(r[i * k + j]) > 1e-4) {
          throw new Error(`R[${i}, ${j}] = ${r[i * k + j]} is not 0`);
        }
      }
    }
  });
}

Deno.test("initNetParams() orthogonal reshapes conv weights to [out, in·k·k]", () => {
  const shape = [8, 3, 2, 2];
  const out = initNetParams({
    numAgents: 1,
    stride: 96,
    seed: 2,
    tensors: [{ offset: 0, shape, init: { kind: "orthogonal" } }],
  });
  assertAllClose(
    matmul(out, transpose(out, 8, 12), 8, 12, 8),
    identity(8, 1),
    { atol: 1e-6 },
    "WWᵀ",
  );
});

Deno.test("initNetParams() is deterministic per seed and independent across agents", () => {
  const tensors: ParamTensor[] = [
    ...linearInit({ offset: 0, inDim: 30, outDim: 20 }),
    ...linearInit({
      offset: 620,
      inDim: 20,
      outDim: 6,
      weight: { kind: "orthogonal", gain: 0.01 },
    }),
  ];
  const stride = 620 + linearParamCount(20, 6);
  const a = initNetParams({ numAgents: 3, stride, seed: 7, tensors });
  assertExact(initNetParams({ numAgents: 3, stride, seed: 7, tensors }), a, "same seed");
  // An agent's block does not depend on the number of agents.
  assertExact(
    initNetParams({ numAgents: 2, stride, seed: 7, tensors }),
    a.subarray(0, 2 * stride),
    "prefix",
  );
  const other = initNetParams({ numAgents: 3, stride, seed: 8, tensors });
  if (other.every((x, i) => x === a[i])) throw new Error("seeds 7 and 8 gave the same weights");
  // Agents differ and are uncorrelated.
  const n = 600, x = a.subarray(0, n), y = a.subarray(stride, stride + n);
  const sx = stats(x), sy = stats(y);
  let cov = 0;
  for (let i = 0; i < n; i++) cov += (x[i] - sx.mean) * (y[i] - sy.mean);
  const corr = cov / n / (sx.std * sy.std);
  if (!(Math.abs(corr) < 5 / Math.sqrt(n))) throw new Error(`agents 0 and 1 correlate: ${corr}`);
  // Changing one tensor's init leaves the other tensors' draws unchanged (one stream per tensor).
  const zeroFirst = [
    { ...tensors[0], init: { kind: "zeros" } } as ParamTensor,
    ...tensors.slice(1),
  ];
  const b = initNetParams({ numAgents: 3, stride, seed: 7, tensors: zeroFirst });
  assertExact(b.subarray(600, stride), a.subarray(600, stride), "other tensors");
});

Deno.test("initNetParams() rejects overlapping, out-of-block and fan-less tensors", () => {
  const cases: [ParamTensor[], new (...a: never[]) => Error][] = [
    [[{ offset: 0, shape: [4, 4], init: { kind: "zeros" } }, {
      offset: 10,
      shape: [4],
      init: { kind: "zeros" },
    }], RangeError],
    [[{ offset: 8, shape: [3, 3], init: { kind: "zeros" } }], RangeError],
    [[{ offset: 0, shape: [4], init: { kind: "torchDefault" } }], TypeError],
    [[{ offset: 0, shape: [4], init: { kind: "orthogonal" } }], TypeError],
  ];
  for (const [tensors, type] of cases) {
    let err: unknown = null;
    try {
      initNetParams({ numAgents: 1, stride: 16, seed: 0, tensors });
    } catch (e) {
      err = e;
    }
    if (!(err instanceof type)) {
      throw new Error(`expected ${type.name} for ${JSON.stringify(tensors)}, got ${err}`);
    }
  }
});
