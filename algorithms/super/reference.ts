/**
 * CPU reference of SUPER's selection (docs/algorithms/super.md §3), written from the spec in float64: a FIFO
 * window of the last k |δ| per sender; quantile threshold with NumPy's linear interpolation;
 * Gaussian threshold μ + c·v (or μ + c·σ) with population variance and c = Φ⁻¹(1 − β) (±∞ at
 * β = 0 / 1); stochastic p = min(1, β·a^α / mean(a^α)), the mean over the fragment ("batch") or
 * over the window after this fragment was appended ("window"), 0 when that mean is 0 or not
 * finite, with one Bernoulli draw per row from the shared counter-based RNG (purpose `share`,
 * stream (agent, row), step = relay number).
 *
 * @module
 */
import { RNG_PURPOSE, rngU32, rngUnit } from "../../engine/rng.ts";

/** Settings of {@linkcode SuperSelectReference}. */
export interface SuperReferenceOptions {
  numAgents: number;
  mode: "quantile" | "gaussian" | "stochastic";
  bandwidth: number;
  window: number;
  gaussianScale: "variance" | "std";
  /** Stochastic rule's normaliser: the fragment (default) or the window. */
  stochasticNormaliser?: "batch" | "window";
  /** Stochastic rule's priority exponent α (default 1). */
  stochasticAlpha?: number;
  /** c = Φ⁻¹(1 − β), from an independent source (e.g. a table); ±Infinity allowed. */
  c: number;
  seed: number;
}

/** One relay's decisions for one sender. */
export interface SuperDecision {
  /** Share flags per row. */
  flags: number[];
  /** Threshold τ (quantile, Gaussian) or NaN (stochastic). */
  threshold: number;
  /** Share probabilities (stochastic) or empty. */
  probs: number[];
  /** Uniform draws the Bernoulli compared with (stochastic) or empty. */
  draws: number[];
  /** Stochastic normaliser mean(a^α) over the fragment or the window, or NaN (quantile, Gaussian). */
  normaliser: number;
}

/** NumPy `percentile(x, 100·q)` with linear interpolation (x unsorted, non-empty). */
export function quantileLinear(x: readonly number[], q: number): number {
  const s = [...x].sort((a, b) => a - b);
  const h = (s.length - 1) * q;
  const lo = Math.floor(h), hi = Math.min(lo + 1, s.length - 1);
  return s[lo] + (h - lo) * (s[hi] - s[lo]);
}

/** The selection of every sender over successive relays. */
export class SuperSelectReference {
  readonly o: SuperReferenceOptions;
  /** Window per sender, oldest first (at most `window` values). */
  readonly windows: number[][];
  /** Relays so far (the Bernoulli draws' step). */
  relays = 0;

  constructor(o: SuperReferenceOptions) {
    this.o = o;
    this.windows = Array.from({ length: o.numAgents }, () => []);
  }

  /** Decides which of each sender's n rows to share; `absTd` is [numAgents, n]. */
  select(absTd: ArrayLike<number>, n: number): SuperDecision[] {
    const { o } = this;
    const out: SuperDecision[] = [];
    for (let a = 0; a < o.numAgents; a++) {
      const x = Array.from({ length: n }, (_, k) => absTd[a * n + k]);
      const d: SuperDecision = {
        flags: [],
        threshold: NaN,
        probs: [],
        draws: [],
        normaliser: NaN,
      };
      if (o.mode === "stochastic") {
        const alpha = o.stochasticAlpha ?? 1;
        // Priority a^α; 0 for a = 0 whatever α (a^α → 0 as a → 0 for α > 0).
        const priority = (v: number) => (v > 0 ? v ** alpha : 0);
        let over = x;
        if (o.stochasticNormaliser === "window") {
          const w = this.windows[a];
          w.push(...x);
          w.splice(0, Math.max(0, w.length - o.window));
          over = w;
        }
        const mean = over.reduce((s, v) => s + priority(v), 0) / over.length;
        const ok = mean > 0 && Number.isFinite(mean);
        d.normaliser = mean;
        for (let k = 0; k < n; k++) {
          const p = ok ? Math.min(1, o.bandwidth * priority(x[k]) / mean) : 0;
          const u = rngUnit(rngU32(o.seed, RNG_PURPOSE.share, a, k, this.relays, 0));
          d.probs.push(p);
          d.draws.push(u);
          d.flags.push(u < p ? 1 : 0);
        }
      } else {
        const w = this.windows[a];
        w.push(...x);
        w.splice(0, Math.max(0, w.length - o.window));
        if (o.mode === "quantile") {
          d.threshold = quantileLinear(w, 1 - o.bandwidth);
        } else {
          const mean = w.reduce((s, v) => s + v, 0) / w.length;
          const v = w.reduce((s, y) => s + (y - mean) ** 2, 0) / w.length;
          const scale = o.gaussianScale === "std" ? Math.sqrt(v) : v;
          d.threshold = o.c === Infinity
            ? Infinity
            : o.c === -Infinity
            ? -Infinity
            : mean + o.c * scale;
        }
        for (let k = 0; k < n; k++) d.flags.push(x[k] > d.threshold ? 1 : 0);
      }
      out.push(d);
    }
    this.relays++;
    return out;
  }
}

/** The relay format of a decision list: kept rows in order per sender, and their counts. */
export function compactReference(
  decisions: readonly SuperDecision[],
  n: number,
): { indices: Uint32Array; counts: Uint32Array } {
  const indices = new Uint32Array(decisions.length * n), counts = new Uint32Array(decisions.length);
  decisions.forEach((d, a) => {
    d.flags.forEach((f, k) => {
      if (f) indices[a * n + counts[a]++] = k;
    });
  });
  return { indices, counts };
}
