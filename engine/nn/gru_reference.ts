/**
 * CPU reference of the GRU layer (float64), written from the maths (PyTorch's GRU equations and
 * parameter layout), not from the WGSL. One (agent, row) sequence at a time.
 *
 * @module
 */

/** Sizes, weights and inputs of one reference call; w holds every agent's block of `stride`. */
export interface GruRefArgs {
  numAgents: number;
  /** Sequence length T. */
  steps: number;
  batch: number;
  inDim: number;
  hidden: number;
  stride: number;
  offset: number;
  /** [numAgents, steps, batch, inDim]. */
  x: ArrayLike<number>;
  /** [numAgents, stride]. */
  w: ArrayLike<number>;
  /** [numAgents, batch, hidden]; zeros when omitted. */
  h0?: ArrayLike<number>;
  /** [numAgents, steps, batch]; non-zero zeroes the previous hidden state before step t. */
  reset?: ArrayLike<number>;
}

/** Result of {@linkcode gruForwardReference}. */
export interface GruRefForward {
  /** h_1 … h_T: [numAgents, steps, batch, hidden]. */
  hs: Float64Array;
  /** h_T: [numAgents, batch, hidden]. */
  hLast: Float64Array;
}

/** What one step of one row keeps for backward. */
interface Cell {
  x: Float64Array;
  hPrev: Float64Array; // after the reset mask
  r: Float64Array;
  z: Float64Array;
  n: Float64Array;
  hn: Float64Array; // W_hn hPrev + b_hn
  h: Float64Array;
}

/** Views of PyTorch's four tensors inside agent a's block. */
function weightsOf(r: GruRefArgs, a: number) {
  const I = r.inDim, H = r.hidden, base = a * r.stride + r.offset;
  const wih = base, whh = wih + 3 * H * I, bih = whh + 3 * H * H, bhh = bih + 3 * H;
  return {
    /** weight_ih[row, col]. */
    ih: (row: number, col: number) => r.w[wih + row * I + col],
    hh: (row: number, col: number) => r.w[whh + row * H + col],
    bih: (row: number) => r.w[bih + row],
    bhh: (row: number) => r.w[bhh + row],
    wih,
    whh,
    bihOff: bih,
    bhhOff: bhh,
  };
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

function runRow(r: GruRefArgs, a: number, b: number): Cell[] {
  const { steps: T, batch: B, inDim: I, hidden: H } = r;
  const W = weightsOf(r, a);
  let h: Float64Array = new Float64Array(H);
  if (r.h0) { for (let j = 0; j < H; j++) h[j] = r.h0[(a * B + b) * H + j]; }
  const cells: Cell[] = [];
  for (let t = 0; t < T; t++) {
    const row = (a * T + t) * B + b;
    if (r.reset && r.reset[row] !== 0) h = new Float64Array(H);
    const x = new Float64Array(I);
    for (let i = 0; i < I; i++) x[i] = r.x[row * I + i];
    // Affine maps: gate k of unit j is row k·H + j of each weight matrix.
    const pre = (k: number, j: number) => {
      let sx = W.bih(k * H + j), sh = W.bhh(k * H + j);
      for (let i = 0; i < I; i++) sx += W.ih(k * H + j, i) * x[i];
      for (let m = 0; m < H; m++) sh += W.hh(k * H + j, m) * h[m];
      return [sx, sh];
    };
    const c: Cell = {
      x,
      hPrev: h,
      r: new Float64Array(H),
      z: new Float64Array(H),
      n: new Float64Array(H),
      hn: new Float64Array(H),
      h: new Float64Array(H),
    };
    for (let j = 0; j < H; j++) {
      const [xr, hr] = pre(0, j), [xz, hz] = pre(1, j), [xn, hn] = pre(2, j);
      c.r[j] = sigmoid(xr + hr);
      c.z[j] = sigmoid(xz + hz);
      c.hn[j] = hn;
      c.n[j] = Math.tanh(xn + c.r[j] * hn);
      c.h[j] = (1 - c.z[j]) * c.n[j] + c.z[j] * h[j];
    }
    cells.push(c);
    h = c.h;
  }
  return cells;
}

/** Runs every (agent, row) sequence: h_t = GRU(x_t, reset_t ? 0 : h_{t−1}). */
export function gruForwardReference(r: GruRefArgs): GruRefForward {
  const { numAgents: A, steps: T, batch: B, hidden: H } = r;
  const hs = new Float64Array(A * T * B * H), hLast = new Float64Array(A * B * H);
  for (let a = 0; a < A; a++) {
    for (let b = 0; b < B; b++) {
      const cells = runRow(r, a, b);
      cells.forEach((c, t) => hs.set(c.h, ((a * T + t) * B + b) * H));
      hLast.set(cells[T - 1].h, (a * B + b) * H);
    }
  }
  return { hs, hLast };
}

/** Result of {@linkcode gruBackwardReference}. */
export interface GruRefBackward {
  /** dL/dx, shape of x. */
  dx: Float64Array;
  /** dL/dw, same layout as w (zero outside each layer's block). */
  dw: Float64Array;
  /** dL/dh0 [numAgents, batch, hidden]. */
  dh0: Float64Array;
}

/**
 * Gradients of L = Σ_t dy_t · h_t + dhLast · h_T w.r.t. x, the agent blocks of w and h0, by
 * backpropagation through time (resets cut the flow into h_{t−1}).
 */
export function gruBackwardReference(
  r: GruRefArgs & { dy: ArrayLike<number>; dhLast?: ArrayLike<number> },
): GruRefBackward {
  const { numAgents: A, steps: T, batch: B, inDim: I, hidden: H } = r;
  const dx = new Float64Array(A * T * B * I);
  const dw = new Float64Array(A * r.stride);
  const dh0 = new Float64Array(A * B * H);
  for (let a = 0; a < A; a++) {
    const W = weightsOf(r, a);
    for (let b = 0; b < B; b++) {
      const cells = runRow(r, a, b);
      // Gradient w.r.t. the state h_t flowing back from later steps.
      let dh: Float64Array = new Float64Array(H);
      if (r.dhLast) { for (let j = 0; j < H; j++) dh[j] = r.dhLast[(a * B + b) * H + j]; }
      for (let t = T - 1; t >= 0; t--) {
        const c = cells[t], row = (a * T + t) * B + b;
        for (let j = 0; j < H; j++) dh[j] += r.dy[row * H + j];
        const dPrev = new Float64Array(H);
        for (let j = 0; j < H; j++) {
          // h = (1 − z) n + z hPrev
          const dn = dh[j] * (1 - c.z[j]);
          const dz = dh[j] * (c.hPrev[j] - c.n[j]);
          dPrev[j] += dh[j] * c.z[j];
          // n = tanh(sn), sn = xn + r·hn
          const dsn = dn * (1 - c.n[j] * c.n[j]);
          const dr = dsn * c.hn[j];
          const dhn = dsn * c.r[j];
          const dsr = dr * c.r[j] * (1 - c.r[j]);
          const dsz = dz * c.z[j] * (1 - c.z[j]);
          // Input side: pre-activations sr, sz, sn get dsr, dsz, dsn.
          const dIn = [dsr, dsz, dsn];
          // Hidden side: W_hr h + b_hr gets dsr, W_hz h + b_hz gets dsz, hn gets dhn.
          const dHid = [dsr, dsz, dhn];
          for (let k = 0; k < 3; k++) {
            const g = k * H + j;
            dw[W.bihOff + g] += dIn[k];
            dw[W.bhhOff + g] += dHid[k];
            for (let i = 0; i < I; i++) {
              dw[W.wih + g * I + i] += dIn[k] * c.x[i];
              dx[row * I + i] += dIn[k] * W.ih(g, i);
            }
            for (let m = 0; m < H; m++) {
              dw[W.whh + g * H + m] += dHid[k] * c.hPrev[m];
              dPrev[m] += dHid[k] * W.hh(g, m);
            }
          }
        }
        const cut = r.reset !== undefined && r.reset[row] !== 0;
        dh = cut ? new Float64Array(H) : dPrev;
      }
      dh0.set(dh, (a * B + b) * H);
    }
  }
  return { dx, dw, dh0 };
}
