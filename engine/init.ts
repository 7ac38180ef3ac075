/**
 * Host-side parameter initialisers (PyTorch semantics) writing into a {@linkcode Net}'s flat
 * `[numAgents, stride]` init array, from the counter-based {@linkcode HostRng}.
 *
 * Every (agent, tensor) pair draws from its own stream `(seed, RNG_PURPOSE.init, agent, tensor)`,
 * so agents are independent, the same seed gives the same weights, and an agent's weights do not
 * depend on how many agents there are.
 *
 * ```ts ignore
 * const hidden: ParamInit = { kind: "orthogonal", gain: Math.SQRT2 };
 * const tensors = [
 *   ...linearInit({ offset: 0, inDim: 4, outDim: 64, weight: hidden, bias: { kind: "zeros" } }),
 *   ...linearInit({ offset: 4 * 64 + 64, inDim: 64, outDim: 5 }), // PyTorch default
 * ];
 * const init = initNetParams({ numAgents: 3, stride, seed: 1, tensors });
 * const net = createNet(engine, { numAgents: 3, stride, label: "seac.actor", init });
 * ```
 *
 * @module
 */
import { HostRng, RNG_PURPOSE } from "./rng.ts";

/** How one parameter tensor is initialised. */
export type ParamInit =
  /** U(−1/√fanIn, 1/√fanIn): nn.Linear / nn.Conv2d defaults. 1-D tensors (biases) need `fanIn`. */
  | { kind: "torchDefault"; fanIn?: number }
  /** torch.nn.init.orthogonal_: QR of a Gaussian matrix with sign correction, times `gain`. */
  | { kind: "orthogonal"; gain?: number }
  /** torch.nn.init.xavier_uniform_: U(±gain·√(6 / (fanIn + fanOut))). */
  | { kind: "xavierUniform"; gain?: number }
  /** All zeros. */
  | { kind: "zeros" };

/** One parameter tensor inside an agent's block. */
export interface ParamTensor {
  /** Offset of the tensor's first value inside each agent's block. */
  offset: number;
  /** PyTorch shape: weights [out, in, …kernel], biases [out]. */
  shape: readonly number[];
  init: ParamInit;
}

/** Fan-in and fan-out as torch's `_calculate_fan_in_and_fan_out` (needs ≥ 2 dimensions). */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) {
    throw new TypeError(
      `Cannot compute fans of shape [${shape.join(", ")}]: needs at least 2 dimensions`,
    );
  }
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

/** Writes `count` values U(−bound, bound) into `out` from `offset`. */
export function fillUniform(
  out: Float32Array,
  options: { offset: number; count: number; bound: number; rng: HostRng },
): void {
  const { offset, count, bound, rng } = options;
  for (let i = 0; i < count; i++) out[offset + i] = rng.uniform(-bound, bound);
}

/**
 * Writes a `rows × cols` (row-major) matrix with orthonormal rows or columns, times `gain`, as
 * torch.nn.init.orthogonal_: a Gaussian matrix, transposed when rows < cols, Householder QR,
 * Q's columns multiplied by sign(diag R) (sign(0) taken as +1), transposed back.
 * Then WᵀW = gain²·I when rows ≥ cols, and WWᵀ = gain²·I when rows ≤ cols.
 */
export function fillOrthogonal(
  out: Float32Array,
  options: { offset: number; rows: number; cols: number; gain: number; rng: HostRng },
): void {
  const { offset, rows, cols, gain, rng } = options;
  const flat = new Float64Array(rows * cols);
  for (let i = 0; i < flat.length; i++) flat[i] = rng.normal();
  const wide = rows < cols;
  const n = wide ? cols : rows, k = wide ? rows : cols; // A is n × k, n ≥ k
  // A[i, j]: the Gaussian matrix, or its transpose when wide.
  const a = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) a[i * k + j] = wide ? flat[j * cols + i] : flat[i * cols + j];
  }
  const q = householderQ(a, n, k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const v = gain * q[i * k + j];
      if (wide) out[offset + j * cols + i] = v;
      else out[offset + i * cols + j] = v;
    }
  }
}

/**
 * Thin Q (n × k, n ≥ k) of A = QR with diag(R) ≥ 0, by Householder reflections in float64.
 * `a` is overwritten with R in its upper triangle.
 */
function householderQ(a: Float64Array, n: number, k: number): Float64Array {
  const vs: Float64Array[] = [];
  const diagSign = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    const v = new Float64Array(n - j);
    let norm2 = 0;
    for (let i = j; i < n; i++) norm2 += a[i * k + j] ** 2;
    const norm = Math.sqrt(norm2);
    const x0 = a[j * k + j];
    const alpha = x0 >= 0 ? -norm : norm; // reflect x onto alpha·e₁, avoiding cancellation
    for (let i = j; i < n; i++) v[i - j] = a[i * k + j];
    v[0] -= alpha;
    const vNorm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    if (vNorm > 0) {
      for (let i = 0; i < v.length; i++) v[i] /= vNorm;
      for (let c = j; c < k; c++) {
        let d = 0;
        for (let i = j; i < n; i++) d += v[i - j] * a[i * k + c];
        for (let i = j; i < n; i++) a[i * k + c] -= 2 * v[i - j] * d;
      }
    }
    vs.push(v);
    diagSign[j] = a[j * k + j] < 0 ? -1 : 1;
  }
  // Q = H₀ H₁ … H_{k−1} applied to the first k columns of the identity.
  const q = new Float64Array(n * k);
  for (let j = 0; j < k; j++) q[j * k + j] = 1;
  for (let j = k - 1; j >= 0; j--) {
    const v = vs[j];
    for (let c = 0; c < k; c++) {
      let d = 0;
      for (let i = j; i < n; i++) d += v[i - j] * q[i * k + c];
      for (let i = j; i < n; i++) q[i * k + c] -= 2 * v[i - j] * d;
    }
  }
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) q[i * k + c] *= diagSign[c];
  }
  return q;
}

function sizeOfShape(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Writes one tensor's values at `base + tensor.offset` of `out`, drawing from `rng`. */
export function fillParamTensor(
  out: Float32Array,
  options: { base: number; tensor: ParamTensor; rng: HostRng },
): void {
  const { base, tensor: t, rng } = options;
  const count = sizeOfShape(t.shape);
  const offset = base + t.offset;
  const init = t.init;
  switch (init.kind) {
    case "zeros":
      out.fill(0, offset, offset + count);
      return;
    case "torchDefault": {
      const fanIn = init.fanIn ?? fans(t.shape).fanIn;
      if (!(fanIn > 0)) {
        throw new RangeError(`Cannot initialise tensor at ${t.offset}: fanIn is ${fanIn}`);
      }
      fillUniform(out, { offset, count, bound: 1 / Math.sqrt(fanIn), rng });
      return;
    }
    case "xavierUniform": {
      const { fanIn, fanOut } = fans(t.shape);
      const bound = (init.gain ?? 1) * Math.sqrt(6 / (fanIn + fanOut));
      fillUniform(out, { offset, count, bound, rng });
      return;
    }
    case "orthogonal": {
      if (t.shape.length < 2) {
        throw new TypeError(
          `Cannot initialise tensor at ${t.offset} orthogonally: shape [${
            t.shape.join(", ")
          }] has fewer than 2 dimensions`,
        );
      }
      const rows = t.shape[0];
      fillOrthogonal(out, { offset, rows, cols: count / rows, gain: init.gain ?? 1, rng });
      return;
    }
  }
}

/**
 * The two tensors of a dense layer at `offset` (weight [outDim, inDim], then bias [outDim], as
 * {@linkcode createLinear} lays them out). Defaults: PyTorch's default for both.
 */
export function linearInit(options: {
  offset: number;
  inDim: number;
  outDim: number;
  weight?: ParamInit;
  bias?: ParamInit;
}): ParamTensor[] {
  const { offset, inDim, outDim } = options;
  const fallback: ParamInit = { kind: "torchDefault", fanIn: inDim };
  return [
    { offset, shape: [outDim, inDim], init: options.weight ?? fallback },
    { offset: offset + inDim * outDim, shape: [outDim], init: options.bias ?? fallback },
  ];
}

/** Options of {@linkcode initNetParams}. */
export interface InitNetOptions {
  numAgents: number;
  /** Parameters per agent (the Net's stride). */
  stride: number;
  seed: number;
  /** Tensors to initialise; values outside every tensor stay 0. */
  tensors: readonly ParamTensor[];
}

/**
 * Builds a Net's host init array [numAgents, stride]: tensor `k` of agent `a` is drawn from
 * stream `(seed, RNG_PURPOSE.init, a, k)`.
 *
 * @param options Sizes, seed and the tensors of one agent's block.
 * @returns The values to pass as `init` to `createNet`.
 *
 * @example Initialise every agent's MLP like PyTorch's nn.Linear does, from a seed
 * ```ts
 * import { initNetParams, mlpInit, mlpParamCount } from "../mod.ts";
 *
 * const spec = { sizes: [4, 16, 2], hidden: "relu", output: "identity" } as const;
 * const stride = mlpParamCount(spec);
 * const host = initNetParams({ numAgents: 3, stride, seed: 7, tensors: mlpInit(spec, 0) });
 * console.log(host.length === 3 * stride); // true: upload with createNet({ init: host })
 * ```
 */
export function initNetParams(options: InitNetOptions): Float32Array {
  const { numAgents, stride, seed, tensors } = options;
  if (!(Number.isInteger(numAgents) && numAgents >= 1 && Number.isInteger(stride) && stride >= 1)) {
    throw new RangeError(
      `Cannot initialise net: numAgents ${numAgents} and stride ${stride} must be integers >= 1`,
    );
  }
  const spans = tensors.map((t) => [t.offset, t.offset + sizeOfShape(t.shape)] as const)
    .sort((x, y) => x[0] - y[0]);
  spans.forEach(([lo, hi], i) => {
    if (!(Number.isInteger(lo) && lo >= 0 && hi <= stride)) {
      throw new RangeError(
        `Cannot initialise net: tensor at [${lo}, ${hi}) is outside the block of ${stride}`,
      );
    }
    if (i > 0 && lo < spans[i - 1][1]) {
      throw new RangeError(
        `Cannot initialise net: tensors at [${spans[i - 1][0]}, ${
          spans[i - 1][1]
        }) and [${lo}, ${hi}) overlap`,
      );
    }
  });
  const out = new Float32Array(numAgents * stride);
  for (let a = 0; a < numAgents; a++) {
    tensors.forEach((t, k) => {
      const rng = new HostRng(seed, RNG_PURPOSE.init, a, k);
      fillParamTensor(out, { base: a * stride, tensor: t, rng });
    });
  }
  return out;
}
