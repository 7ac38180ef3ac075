/**
 * The cost model's reference calibration (app/estimate.ts): per algorithm, the fixed cost of a
 * training iteration [s] and the cost per work unit [s], fitted on Mesa's llvmpipe CPU adapter on
 * the project's shared 2-core VM by `deno run -A app/estimate_probe.ts` (two timed probes per
 * algorithm of its representative preset, app/estimate_probe.ts `REPRESENTATIVES`), with the two
 * cores otherwise idle. Under load from other jobs (load average 4–5 on 2 cores) the same probes
 * came out 1.5–3× slower and noisier; the quick SEAC probe of `adapterCosts` scales for that.
 * Another adapter scales this table by that probe, or replaces it (`deno task run --list
 * --calibrate`).
 *
 * Checked against real runs: see the accuracy notes of app/estimate.ts.
 *
 * @module
 */
/** Fitted cost of one algorithm on one adapter. Units in brackets. */
export interface AlgorithmCost {
  /** Fixed cost of one training iteration [s]. */
  overhead: number;
  /** Cost per work unit (multiply-add) [s]. */
  perUnit: number;
  /** Building the trainer and its first iteration (kernel compilation) [s]. */
  build: number;
}

/** Per-algorithm costs measured on one adapter. */
export interface CostTable {
  /** The adapter's description (WebGPU `adapter.info.description`). */
  adapter: string;
  /** When it was measured (ISO date). */
  measured: string;
  /** By `algo.name`. */
  algorithms: Readonly<Record<string, AlgorithmCost>>;
}

/** Costs measured on the reference adapter. */
export const REFERENCE_COSTS: CostTable = Object.freeze({
  adapter: "llvmpipe (LLVM 15.0.6, 256 bits)",
  measured: "2026-12-07",
  algorithms: Object.freeze({
    random: { overhead: 0.000214, perUnit: 2.9e-07, build: 0.0533 },
    seac: { overhead: 0.00536, perUnit: 8.92e-10, build: 0.182 },
    iac: { overhead: 0.00572, perUnit: 7.29e-10, build: 0.133 },
    snac: { overhead: 0.00412, perUnit: 9.87e-10, build: 0.117 },
    iql: { overhead: 0.0784, perUnit: 4.75e-10, build: 0.633 },
    seql: { overhead: 0.00403, perUnit: 2e-10, build: 0.547 },
    idqn: { overhead: 0, perUnit: 1.32e-09, build: 2.32 },
    ps: { overhead: 0, perUnit: 1.31e-09, build: 1.94 },
    "idqn-same-rb": { overhead: 0, perUnit: 1.71e-10, build: 2.27 },
    super: { overhead: 0.207, perUnit: 1.33e-09, build: 2.6 },
    lbs: { overhead: 0.998, perUnit: 8.4e-10, build: 9.97 },
    ppo_gs: { overhead: 0.0317, perUnit: 5.25e-10, build: 0.358 },
    "ppo_gs:gru": { overhead: 0.545, perUnit: 2.07e-9, build: 3.44 },
    dials: { overhead: 0.0532, perUnit: 4.29e-10, build: 3.07 },
    "dials:gru": { overhead: 0.476, perUnit: 2.02e-9, build: 13.6 },
    untrained_dials: { overhead: 0.0495, perUnit: 4.43e-10, build: 2.76 },
    "untrained_dials:gru": { overhead: 0.284, perUnit: 2.06e-9, build: 13.5 },
  }),
});
