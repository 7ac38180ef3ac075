/**
 * Measures the cost model of app/estimate.ts on this adapter: timed probes of training
 * iterations (no files, no evaluation), a per-algorithm fit, and a cache keyed by the adapter's
 * description, under `$MARL_WEBGPU_CACHE`, else `$XDG_CACHE_HOME/marl-webgpu`, else
 * `~/.cache/marl-webgpu` (file `costs.json`).
 *
 * - `adapterCosts()` (what `--list` and {@linkcode longRunWarning} use): this adapter's own
 *   calibration when cached; else the reference table scaled by one quick probe of SEAC on LBF
 *   (about 2 s the first time, then cached); else, without WebGPU, the reference table as is.
 * - `calibrate()` (`deno task run --list --calibrate`): two probes per algorithm of its
 *   representative preset (at its numEnvs and 4×), minutes on a CPU adapter. Running this module
 *   (`deno run -A app/estimate_probe.ts [algo …]`) does the same and prints the table as JSON, the
 *   way app/estimate_reference.ts was made.
 *
 * @module
 */
import { createEngine, type Engine } from "../engine/device.ts";
import { settle } from "../engine/readback.ts";
import { type ExperimentConfig, parseConfig, validateConfig } from "./config.ts";
import {
  type AlgorithmCost,
  costOf,
  type CostTable,
  estimateRun,
  formatEstimate,
  LONG_RUN_SECONDS,
  REFERENCE_COSTS,
} from "./estimate.ts";
import { findPreset } from "./presets.ts";
import { buildTrainer } from "./train_loop.ts";

/**
 * The preset each cost-table entry (app/estimate.ts `RunCost.key`: an algorithm, `:gru` for its
 * recurrent policy) is calibrated on: the smallest of its presets.
 */
export const REPRESENTATIVES: Readonly<Record<string, string>> = Object.freeze({
  random: "random_lbf",
  seac: "seac_lbf_8x8_2p_2f_coop",
  iac: "iac_lbf_8x8_2p_2f_coop",
  snac: "snac_lbf_8x8_2p_2f_coop",
  iql: "iql_lbf",
  seql: "seql_lbf",
  idqn: "idqn_ddqn_pursuit",
  ps: "ps_pursuit_lbs",
  "idqn-same-rb": "idqn_same_rb_pursuit_lbs",
  super: "super_quantile_pursuit",
  lbs: "lbs_pursuit",
  ppo_gs: "ppo_gs_traffic_4",
  "ppo_gs:gru": "ppo_gs_warehouse_4",
  dials: "dials_traffic_4",
  "dials:gru": "dials_warehouse_4",
  untrained_dials: "untrained_dials_traffic_4",
  "untrained_dials:gru": "untrained_dials_warehouse_4",
});

/** The algorithm whose probe scales the reference table to another adapter. */
export const SPEED_PROBE = "seac";

/** One timed probe. */
export interface ProbeResult {
  /** Seconds per training iteration (after the first). */
  secondsPerIteration: number;
  /** Building the trainer and running its first iteration [s]. */
  build: number;
  /** Iterations timed. */
  iterations: number;
}

/**
 * The config a probe runs: `config` with `numEnvs` changed, replay learning from the first step
 * (learningStarts, randomSteps 0) and DIALS' periodic work moved past the probe (evaluation,
 * influence-predictor training), so the probe times the steady learning iteration.
 *
 * @param config A validated config.
 * @param numEnvs Envs of the probe.
 * @returns The probe's config.
 */
export function probeConfig(config: ExperimentConfig, numEnvs: number): ExperimentConfig {
  const raw = structuredClone(config) as unknown as Record<string, Record<string, unknown>>;
  (raw as Record<string, unknown>).numEnvs = numEnvs;
  // The probe does not evaluate; the family protocol fills `eval` again from the new settings.
  delete (raw as Record<string, unknown>).eval;
  const algo = raw.algo;
  const changes: Record<string, unknown> = {
    learningStarts: 0,
    randomSteps: 0,
    evalFreq: 2 ** 40,
    trainAips: false,
  };
  for (const [k, v] of Object.entries(changes)) {
    if (!(k in algo)) continue;
    const before = algo[k];
    algo[k] = v;
    try {
      validateConfig(raw);
    } catch {
      algo[k] = before;
    }
  }
  return validateConfig(raw);
}

/**
 * Times training iterations of `config`: builds the trainer, runs one iteration (compiles
 * kernels), then doubles the iterations per timed batch until `minSeconds` have passed.
 *
 * @param engine The engine to build on.
 * @param config The config (see {@linkcode probeConfig}).
 * @param options `minSeconds` of timed iterations (default 1).
 * @returns Seconds per iteration and the build time.
 */
export async function probe(
  engine: Engine,
  config: ExperimentConfig,
  options: { minSeconds?: number } = {},
): Promise<ProbeResult> {
  const minMs = (options.minSeconds ?? 1) * 1000;
  const t0 = performance.now();
  const trainer = await buildTrainer(engine, config);
  trainer.run(1);
  await settle(engine);
  const t1 = performance.now();
  let batch = 1, iterations = 0, t = t1;
  while (t - t1 < minMs) {
    trainer.run(batch);
    await settle(engine);
    iterations += batch;
    t = performance.now();
    batch *= 2;
  }
  return {
    secondsPerIteration: (t - t1) / 1000 / iterations,
    build: (t1 - t0) / 1000,
    iterations,
  };
}

/** The representative config of an algorithm. */
async function representative(name: string): Promise<ExperimentConfig> {
  const preset = REPRESENTATIVES[name];
  if (!preset) throw new TypeError(`Cannot calibrate "${name}": no representative preset`);
  const p = await findPreset(preset);
  return await parseConfig(p.text, { source: preset, warn: () => {} });
}

/**
 * Fits `overhead + perUnit · units` of one algorithm from two probes of its representative
 * preset, at its numEnvs and at 4× (2× when an iteration takes over a second); a negative part
 * (timing noise) is set to zero and the other fitted through the larger probe.
 *
 * @param name The algorithm.
 * @param options `minSeconds` per probe (default 1).
 * @returns The fitted cost.
 */
export async function calibrateAlgorithm(
  name: string,
  options: { minSeconds?: number } = {},
): Promise<AlgorithmCost> {
  const base = await representative(name);
  const points: { units: number; seconds: number; build: number }[] = [];
  for (let i = 0; i < 2; i++) {
    // The second probe at 4× the envs, or 2× where one iteration already takes a second.
    const numEnvs = i === 0 ? base.numEnvs : base.numEnvs * (points[0].seconds > 1 ? 2 : 4);
    const config = probeConfig(base, numEnvs);
    const engine = await createEngine();
    try {
      const r = await probe(engine, config, options);
      points.push({ units: costOf(config).units, seconds: r.secondsPerIteration, build: r.build });
    } finally {
      engine.destroy();
    }
  }
  const [a, b] = points;
  let perUnit = (b.seconds - a.seconds) / (b.units - a.units);
  let overhead = a.seconds - perUnit * a.units;
  if (!(perUnit > 0)) [perUnit, overhead] = [0, Math.min(a.seconds, b.seconds)];
  else if (overhead < 0) [perUnit, overhead] = [b.seconds / b.units, 0];
  return { overhead, perUnit, build: a.build };
}

/**
 * Calibrates every algorithm with a representative preset on this adapter.
 *
 * @param options `minSeconds` per probe, `names` to calibrate (default all), `onProgress`.
 * @returns The table.
 */
export async function calibrate(
  options: {
    minSeconds?: number;
    names?: readonly string[];
    onProgress?: (name: string, done: number, total: number) => void;
  } = {},
): Promise<CostTable> {
  const engine = await createEngine();
  const adapter = engine.adapter.description;
  engine.destroy();
  const names = options.names ?? Object.keys(REPRESENTATIVES);
  const algorithms: Record<string, AlgorithmCost> = {};
  for (const [i, name] of names.entries()) {
    options.onProgress?.(name, i, names.length);
    algorithms[name] = await calibrateAlgorithm(name, options);
  }
  return { adapter, measured: new Date().toISOString().slice(0, 10), algorithms };
}

/** What `adapterCosts` found: the table to use and how it was obtained. */
export interface AdapterCosts {
  /** This adapter's description, or null without WebGPU. */
  adapter: string | null;
  table: CostTable;
  /** Multiply the table's estimates by this (the quick probe's ratio; 1 when calibrated here). */
  speed: number;
  /** One line saying where the numbers come from. */
  basis: string;
}

interface CacheEntry {
  speed?: { factor: number; measured: string; seconds: number };
  table?: CostTable;
}

interface CacheFile {
  format: "marl-webgpu-costs/1";
  adapters: Record<string, CacheEntry>;
}

/** The cache folder (see the module doc), or null when no environment variable gives one. */
export function cacheDir(): string | null {
  try {
    const own = Deno.env.get("MARL_WEBGPU_CACHE");
    if (own) return own;
    const xdg = Deno.env.get("XDG_CACHE_HOME");
    if (xdg) return `${xdg}/marl-webgpu`;
    const home = Deno.env.get("HOME");
    return home ? `${home}/.cache/marl-webgpu` : null;
  } catch {
    return null;
  }
}

async function readCache(dir: string | null): Promise<CacheFile> {
  const empty: CacheFile = { format: "marl-webgpu-costs/1", adapters: {} };
  if (!dir) return empty;
  try {
    const data = JSON.parse(await Deno.readTextFile(`${dir}/costs.json`));
    return data?.format === empty.format && typeof data.adapters === "object" ? data : empty;
  } catch {
    return empty;
  }
}

async function writeCache(dir: string | null, cache: CacheFile): Promise<void> {
  if (!dir) return;
  try {
    await Deno.mkdir(dir, { recursive: true });
    const tmp = `${dir}/costs.json.${Deno.pid}.tmp`;
    await Deno.writeTextFile(tmp, JSON.stringify(cache, null, 1) + "\n");
    await Deno.rename(tmp, `${dir}/costs.json`);
  } catch {
    // A cache that cannot be written only means probing again next time.
  }
}

/**
 * Stores a calibration of this adapter in the cache (what `--list --calibrate` does).
 *
 * @param table The calibration (its `adapter` is the key).
 * @param options `cacheDir` (default {@linkcode cacheDir}).
 */
export async function saveCalibration(
  table: CostTable,
  options: { cacheDir?: string | null } = {},
): Promise<void> {
  const dir = options.cacheDir === undefined ? cacheDir() : options.cacheDir;
  const cache = await readCache(dir);
  cache.adapters[table.adapter] = { ...cache.adapters[table.adapter], table };
  await writeCache(dir, cache);
}

/**
 * The cost table for this adapter (see the module doc): its own calibration if cached, else the
 * reference scaled by a quick probe (cached), else the reference.
 *
 * @param options `cacheDir` (default {@linkcode cacheDir}; null: no cache), `probe` (default true:
 *   run the quick probe when the cache has no factor for this adapter).
 * @returns The table, the speed factor and a line naming the basis.
 */
export async function adapterCosts(
  options: { cacheDir?: string | null; probe?: boolean } = {},
): Promise<AdapterCosts> {
  const dir = options.cacheDir === undefined ? cacheDir() : options.cacheDir;
  let engine: Engine;
  try {
    engine = await createEngine();
  } catch (e) {
    return {
      adapter: null,
      table: REFERENCE_COSTS,
      speed: 1,
      basis: `no WebGPU adapter (${
        (e as Error).message
      }); times are for the reference adapter ${REFERENCE_COSTS.adapter}`,
    };
  }
  const adapter = engine.adapter.description;
  try {
    const cache = await readCache(dir);
    const entry = cache.adapters[adapter] ?? {};
    if (entry.table) {
      return {
        adapter,
        table: entry.table,
        speed: 1,
        basis:
          `calibrated on this adapter (${entry.table.measured}, deno task run --list --calibrate)`,
      };
    }
    if (!entry.speed && options.probe !== false) {
      const base = await representative(SPEED_PROBE);
      const config = probeConfig(base, base.numEnvs);
      const t0 = performance.now();
      const r = await probe(engine, config);
      const fit = REFERENCE_COSTS.algorithms[SPEED_PROBE];
      const predicted = fit.overhead + fit.perUnit * costOf(config).units;
      entry.speed = {
        factor: r.secondsPerIteration / predicted,
        measured: new Date().toISOString().slice(0, 10),
        seconds: Math.round((performance.now() - t0) / 100) / 10,
      };
      cache.adapters[adapter] = entry;
      await writeCache(dir, cache);
    }
    if (entry.speed) {
      return {
        adapter,
        table: REFERENCE_COSTS,
        speed: entry.speed.factor,
        basis: `reference calibration (${REFERENCE_COSTS.adapter}) × ${
          entry.speed.factor.toFixed(2)
        } from a ${entry.speed.seconds} s probe of ${SPEED_PROBE} here (${entry.speed.measured}); deno task run --list --calibrate measures every algorithm`,
      };
    }
    return {
      adapter,
      table: REFERENCE_COSTS,
      speed: 1,
      basis: `reference calibration (${REFERENCE_COSTS.adapter}), not yet scaled to this adapter`,
    };
  } finally {
    engine.destroy();
  }
}

/**
 * The warning to print when a run starts whose estimated time on this adapter exceeds an hour
 * ({@linkcode LONG_RUN_SECONDS}), or null. Uses {@linkcode adapterCosts} (a quick probe the first
 * time on an adapter, cached).
 *
 * @example Warn before a long run (what `deno task run` prints before training)
 * ```ts ignore
 * const note = await longRunWarning(config);
 * if (note) console.error(`warning: ${note}`);
 * ```
 *
 * @param config The run's validated config.
 * @param options `costs` (default: {@linkcode adapterCosts}()), `label` naming the run (default
 *   "this run").
 * @returns One line without a `warning: ` prefix, or null.
 */
export async function longRunWarning(
  config: ExperimentConfig,
  options: { costs?: AdapterCosts; label?: string } = {},
): Promise<string | null> {
  const costs = options.costs ?? await adapterCosts();
  const estimate = estimateRun(config, costs.table, { speed: costs.speed });
  if (!estimate || estimate.seconds <= LONG_RUN_SECONDS) return null;
  const rate = config.totalSteps / estimate.seconds;
  return `${options.label ?? "this run"} is estimated to take ${formatEstimate(estimate)} on ${
    costs.adapter ?? "the reference adapter"
  } (${config.totalSteps.toLocaleString("en-US")} env steps at ~${
    rate >= 100 ? Math.round(rate).toLocaleString("en-US") : rate.toPrecision(2)
  } steps/s${
    estimate.lowerBound ? `, not counting ${estimate.cost.excluded.join(", ")}` : ""
  }); lower --totalSteps for a shorter run, or see deno task run --list`;
}

if (import.meta.main) {
  const table = await calibrate({
    names: Deno.args.length > 0 ? Deno.args : undefined,
    onProgress: (name, i, n) => console.error(`calibrating ${name} (${i + 1}/${n})`),
  });
  await saveCalibration(table);
  console.log(JSON.stringify(table, null, 2));
}
