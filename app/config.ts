/**
 * Experiment configs: YAML text → plain object → CLI overrides (`--algo.lr=1e-3`) → validation
 * against typed defaults (run settings here, algorithm settings from the algorithm's
 * {@linkcode AlgorithmDef.defaults}) → a deeply frozen {@linkcode ExperimentConfig}. Keys are the TS
 * field names; every problem names its dotted path and the allowed values.
 *
 * ```yaml
 * seed: 1
 * numEnvs: 64
 * totalSteps: 200000
 * env: Foraging-8x8-2p-2f-coop   # or a map: { name: <task>, <option>: value … }, e.g.
 * # env: { name: Foraging-8x8-2p-2f-coop, maxEpisodeSteps: 25, timeLimit: truncate }
 * algo: { name: random }
 * log: { interval: 6400, checkpointEvery: 64000 }
 * eval: { interval: 0 }   # optional: the algorithm's paper protocol, with these fields changed
 * ```
 *
 * @module
 */
import type { EnvDef } from "../envs/env.ts";
import { envOptionProblems, resolveEnvOptions } from "../envs/options.ts";
import { type EnvSection, findTask } from "../envs/registry.ts";
import { parseYaml } from "./run_files.ts";

export { parseYaml } from "./run_files.ts";
import { ALGORITHMS, type AlgoSection, findAlgorithm } from "../algorithms/mod.ts";
import {
  type AlgorithmDef,
  type EvalConfig,
  type EvalProtocol,
  familyEvalProtocol,
  type RunConfig,
} from "../algorithms/trainer.ts";
import {
  checkIntegerIn,
  isPlainObject,
  type Problem,
  show,
  typeName,
  unknownKeys,
} from "./config_problems.ts";
import { validateEvalSection } from "./eval_config.ts";

/** When to log and checkpoint, in env steps (summed over envs). */
export interface LogConfig {
  /** Env steps between metrics rows (rounded to whole iterations, at least one). */
  interval: number;
  /** Env steps between checkpoints (taken at the first log point at or after); 0: only at the end. */
  checkpointEvery: number;
}

export type { AlgoSection } from "../algorithms/mod.ts";

export type { EvalConfig } from "../algorithms/trainer.ts";

/** A validated experiment: run settings, algorithm, logging, evaluation and the run's name. */
export interface ExperimentConfig extends RunConfig {
  /** Run name (directory under the runs root); "" derives `<algo>-<env>-<time>`. */
  name: string;
  /**
   * Seeds to train (`seed`, `seed + 1`, …; `--seeds` overrides), in one process and, where the
   * family batches seeds, in the same dispatches (docs/statistics.md §8). Absent: 1.
   */
  seeds?: number;
  algo: AlgoSection;
  log: LogConfig;
  /**
   * The evaluation protocol: the algorithm's paper protocol (`evalProtocol` of its definition)
   * with the fields the config's `eval:` section sets.
   */
  eval: EvalConfig;
}

/**
 * Defaults of every field except `algo` (which needs at least `name`).
 *
 * @example Read the defaults every config starts from
 * ```ts
 * import { RUN_DEFAULTS } from "../mod.ts";
 *
 * console.log(RUN_DEFAULTS.seed, RUN_DEFAULTS.numEnvs, RUN_DEFAULTS.log.interval);
 * ```
 */
export const RUN_DEFAULTS: Readonly<Omit<ExperimentConfig, "algo" | "eval">> = Object.freeze({
  seed: 1,
  numEnvs: 64,
  totalSteps: 200_000,
  env: "Foraging-8x8-2p-2f-coop",
  name: "",
  log: Object.freeze({ interval: 10_000, checkpointEvery: 50_000 }),
});

/** Integer rules of the run fields: inclusive bounds. */
const INTEGER_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  seed: [0, 2 ** 32 - 1],
  numEnvs: [1, 2 ** 20],
  totalSteps: [1, Number.MAX_SAFE_INTEGER],
  "log.interval": [1, Number.MAX_SAFE_INTEGER],
  "log.checkpointEvery": [0, Number.MAX_SAFE_INTEGER],
};

const NAME_RE = /^[A-Za-z0-9][\w.-]*$/;

/**
 * Parses a CLI value as a YAML scalar would be read: numbers, `true`/`false`, else a string
 * (surrounding quotes removed).
 */
export function parseScalar(text: string): number | boolean | string {
  const t = text.trim();
  if (t === "true") return true;
  if (t === "false") return false;
  if (/^[-+]?(\d[\d_]*\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?)$/.test(t)) {
    return Number(t.replaceAll("_", ""));
  }
  const q = /^(["'])(.*)\1$/.exec(t);
  return q ? q[2] : t;
}

/**
 * Parses a CLI override value: a flow list of scalars (`[64, 64]`, `[]`) as a list, anything else
 * by {@linkcode parseScalar}.
 */
export function parseOverrideValue(
  text: string,
): number | boolean | string | (number | boolean | string)[] {
  const t = text.trim();
  if (!t.startsWith("[") || !t.endsWith("]")) return parseScalar(t);
  const inner = t.slice(1, -1).trim();
  return inner === "" ? [] : inner.split(",").map(parseScalar);
}

/**
 * Returns a copy of `raw` with each `path=value` override set (value parsed by
 * {@linkcode parseOverrideValue}: scalars, or flow lists such as `[64, 64]`); intermediate objects
 * are created. Unknown paths are left for
 * validation to report.
 *
 * @param raw A parsed config (plain object).
 * @param overrides Pairs of dotted path and value text, e.g. `["algo.lr", "1e-3"]`.
 * @returns The updated copy.
 */
export function applyOverrides(
  raw: unknown,
  overrides: readonly (readonly [string, string])[],
): Record<string, unknown> {
  const out: Record<string, unknown> = isPlainObject(raw) ? structuredClone(raw) : {};
  for (const [path, value] of overrides) {
    const keys = path.split(".");
    if (keys.some((k) => k === "")) {
      throw new TypeError(`Cannot apply override "--${path}=${value}": empty key in the path`);
    }
    // An option of a task given by name (`env: <task>`) turns it into `env: { name: <task> }`.
    if (keys.length > 1 && keys[0] === "env" && typeof out.env === "string") {
      out.env = { name: out.env };
    }
    let node = out;
    for (const k of keys.slice(0, -1)) {
      if (!isPlainObject(node[k])) node[k] = {};
      node = node[k] as Record<string, unknown>;
    }
    node[keys.at(-1)!] = parseOverrideValue(value);
  }
  return out;
}

function checkInteger(path: string, v: unknown, problems: Problem[]): v is number {
  return checkIntegerIn(path, v, INTEGER_RANGES[path], problems);
}

function validateAlgo(raw: unknown, problems: Problem[]): AlgoSection | null {
  const names = Object.keys(ALGORITHMS).join(", ");
  if (!isPlainObject(raw)) {
    problems.push({
      kind: "type",
      message: raw === undefined
        ? `missing "algo" (a map with "name": one of ${names})`
        : `"algo" must be a map with "name": one of ${names}, got ${show(raw)}`,
    });
    return null;
  }
  const def = typeof raw.name === "string" ? findAlgorithm(raw.name) : null;
  if (!def) {
    problems.push({
      kind: raw.name === undefined || typeof raw.name === "string" ? "range" : "type",
      message: `"algo.name" must be one of ${names}, got ${show(raw.name)}`,
    });
    return null;
  }
  const defaults = def.defaults as Record<string, unknown>;
  const algo: Record<string, unknown> = { name: def.name };
  unknownKeys(raw, ["name", ...Object.keys(defaults)], "algo.", problems);
  for (const [k, d] of Object.entries(defaults)) {
    const v = raw[k] ?? d;
    const ok = typeof v === typeof d && Array.isArray(v) === Array.isArray(d) &&
      (typeof v !== "number" || Number.isFinite(v));
    if (!ok) {
      problems.push({
        kind: "type",
        message: `"algo.${k}" must be a finite ${typeName(d)} (default ${show(d)}), got ${show(v)}`,
      });
    }
    algo[k] = v;
  }
  return algo as AlgoSection;
}

/**
 * Validates `env`: a task name, or a map of `name` and options of the task's family, checked
 * against the family's option definitions. Returns the name unchanged, or the map with every
 * option of the family (defaults filled in), or null on a problem.
 */
function validateEnv(raw: unknown, problems: Problem[]): string | EnvSection | null {
  if (typeof raw === "string") {
    try {
      findTask(raw);
      return raw;
    } catch (e) {
      problems.push({ kind: "range", message: `"env": ${(e as Error).message}` });
      return null;
    }
  }
  if (!isPlainObject(raw)) {
    problems.push({
      kind: "type",
      message: `"env" must be a task name or a map with "name" and the task's options, got ${
        show(raw)
      }`,
    });
    return null;
  }
  const { name, ...options } = raw;
  if (typeof name !== "string") {
    problems.push({
      kind: "type",
      message: name === undefined
        ? `missing "env.name" (the task name)`
        : `"env.name" must be a task name, got ${show(name)}`,
    });
    return null;
  }
  let def: EnvDef;
  try {
    def = findTask(name).def;
  } catch (e) {
    problems.push({ kind: "range", message: `"env.name": ${(e as Error).message}` });
    return null;
  }
  const found = envOptionProblems(def.options, options, { path: "env.", alsoAllowed: ["name"] });
  if (found.length > 0) {
    problems.push(...found);
    return null;
  }
  return { name, ...resolveEnvOptions(def.options, options, name) };
}

function deepFreeze<T>(v: T): T {
  if (typeof v === "object" && v !== null) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

/**
 * Validates a parsed config against the defaults: unknown keys, wrong types and out-of-range
 * values are reported together, each with its dotted path and the allowed values; then the
 * algorithm's own `check`. Missing fields take their defaults. `env` is a task name (kept as
 * given) or a map of `name` and options of the task's family (kept with every option of the
 * family, defaults filled in); a family without options accepts no other key.
 *
 * @param raw The parsed (and overridden) config.
 * @param source File or preset name used in the error.
 * @returns The deeply frozen effective config.
 * @throws TypeError (unknown key, wrong type), RangeError (out of range) naming every problem.
 *
 * @example Fill a config object with defaults, or fail naming the dotted path
 * ```ts
 * import { validateConfig } from "../mod.ts";
 *
 * const config = validateConfig({ env: "Foraging-5x5-2p-1f", algo: { name: "iac" } });
 * console.log(config.numEnvs, config.algo.name); // the run default, "iac"
 * try {
 *   validateConfig({ env: "Foraging-5x5-2p-1f", algo: { name: "iac", learningRate: 1 } });
 * } catch (e) {
 *   console.log((e as Error).message); // names "algo.learningRate"
 * }
 * const lbf = validateConfig({
 *   env: { name: "Foraging-5x5-2p-1f", maxEpisodeSteps: 25, timeLimit: "truncate" },
 *   algo: { name: "iac" },
 * });
 * console.log(lbf.env); // the map, with the LBF option left out at its default (foodLevels "v3")
 * ```
 */
export function validateConfig(raw: unknown, source = "config"): ExperimentConfig {
  const problems: Problem[] = [];
  if (!isPlainObject(raw)) {
    throw new TypeError(`Cannot read config "${source}": expected a map of keys, got ${show(raw)}`);
  }
  unknownKeys(
    raw,
    ["seed", "numEnvs", "totalSteps", "env", "name", "seeds", "algo", "log", "eval"],
    "",
    problems,
  );
  const d = RUN_DEFAULTS;
  const seed = raw.seed ?? d.seed, numEnvs = raw.numEnvs ?? d.numEnvs;
  const totalSteps = raw.totalSteps ?? d.totalSteps;
  checkInteger("seed", seed, problems);
  if (raw.seeds !== undefined && !(Number.isInteger(raw.seeds) && (raw.seeds as number) >= 1)) {
    problems.push({
      kind: typeof raw.seeds === "number" ? "range" : "type",
      message: `"seeds" must be an integer >= 1, got ${show(raw.seeds)}`,
    });
  }
  checkInteger("numEnvs", numEnvs, problems);
  checkInteger("totalSteps", totalSteps, problems);
  const env = validateEnv(raw.env ?? d.env, problems);
  const name = raw.name ?? d.name;
  if (typeof name !== "string" || (name !== "" && !NAME_RE.test(name))) {
    problems.push({
      kind: typeof name === "string" ? "range" : "type",
      message: `"name" must be letters, digits, ".", "_" or "-" (or "" to derive), got ${
        show(name)
      }`,
    });
  }
  const rawLog = raw.log ?? {};
  const log = { ...d.log };
  if (!isPlainObject(rawLog)) {
    problems.push({
      kind: "type",
      message: `"log" must be a map with interval, checkpointEvery, got ${show(rawLog)}`,
    });
  } else {
    unknownKeys(rawLog, Object.keys(d.log), "log.", problems);
    log.interval = (rawLog.interval ?? d.log.interval) as number;
    log.checkpointEvery = (rawLog.checkpointEvery ?? d.log.checkpointEvery) as number;
    checkInteger("log.interval", log.interval, problems);
    checkInteger("log.checkpointEvery", log.checkpointEvery, problems);
  }
  const algo = validateAlgo(raw.algo, problems);
  const cfg = { seed, numEnvs, totalSteps, env, name, algo, log } as ExperimentConfig;
  if (raw.seeds !== undefined) cfg.seeds = raw.seeds as number;
  let family: { protocol: EvalProtocol; algo: string } | null = null;
  if (problems.length === 0 && algo) {
    const def = findAlgorithm(algo.name)! as AlgorithmDef<object>;
    for (const p of def.check?.(cfg, algo) ?? []) problems.push({ kind: "range", message: p });
    if (problems.length === 0) {
      const { name: _n, ...params } = algo;
      family = { protocol: familyEvalProtocol(def, cfg, params), algo: algo.name };
    }
  }
  cfg.eval = validateEvalSection(raw.eval, family, problems);
  if (problems.length > 0) {
    const msg = `Cannot read config "${source}": ${problems.map((p) => p.message).join("; ")}`;
    throw problems[0].kind === "range" ? new RangeError(msg) : new TypeError(msg);
  }
  return deepFreeze(structuredClone(cfg));
}

/**
 * Parses YAML text, applies overrides and validates.
 *
 * @param text YAML text.
 * @param options `source` (for errors) and `overrides` (dotted path, value text).
 * @returns The frozen effective config.
 *
 * @example Parse YAML with a CLI-style override
 * ```ts
 * import { parseConfig } from "../mod.ts";
 *
 * const config = await parseConfig("env: Foraging-5x5-2p-1f\nalgo: { name: seac }\n", {
 *   source: "inline.yaml",
 *   overrides: [["algo.lr", "1e-3"]],
 * });
 * if (config.algo.name === "seac") console.log(config.algo.lr); // 0.001
 * ```
 */
export async function parseConfig(
  text: string,
  options: {
    source?: string;
    overrides?: readonly (readonly [string, string])[];
    warn?: (message: string) => void;
  } = {},
): Promise<ExperimentConfig> {
  const source = options.source ?? "config";
  const raw = await parseYaml(text, source);
  const { config, notes } = overrideConfig(raw ?? {}, options.overrides ?? []);
  const valid = validateConfig(config, source);
  const warn = options.warn ?? ((m: string) => console.warn(`warning: ${m}`));
  for (const note of notes) warn(note);
  return valid;
}

/**
 * Applies CLI overrides the way `deno task run` does ({@linkcode applyOverrides}), then:
 * - an override of `algo.name` to another algorithm drops the config's `algo` keys the new
 *   algorithm does not have (keys given as overrides stay, and validation checks them strictly);
 * - a `log.interval` or `log.checkpointEvery` above `totalSteps` is clamped to `totalSteps`.
 * Each change comes back as a note (one line) for the caller to print.
 *
 * @param raw A parsed config (plain object; not mutated).
 * @param overrides Pairs of dotted path and value text.
 * @returns The config to validate and the notes.
 *
 * @example Switch a SEAC config to IDQN from the command line
 * ```ts
 * import { overrideConfig } from "./config.ts";
 *
 * const raw = { totalSteps: 1000, algo: { name: "seac", nSteps: 5, lr: 3e-4 } };
 * const { config, notes } = overrideConfig(raw, [["algo.name", "idqn"]]);
 * console.log(config.algo, notes); // { name: "idqn", lr: 0.0003 } and a note naming algo.nSteps
 * ```
 */
export function overrideConfig(
  raw: unknown,
  overrides: readonly (readonly [string, string])[],
): { config: Record<string, unknown>; notes: string[] } {
  const config = applyOverrides(raw, overrides);
  const notes: string[] = [];
  const typed = new Set(overrides.map(([path]) => path));
  const before = isPlainObject(raw) && isPlainObject(raw.algo) ? raw.algo : null;
  const after = isPlainObject(config.algo) ? config.algo : null;
  const def = typeof after?.name === "string" ? findAlgorithm(after.name) : null;
  if (typed.has("algo.name") && before && after && def && before.name !== after.name) {
    const own = Object.keys(def.defaults);
    const dropped = Object.keys(before).filter((k) =>
      k !== "name" && !typed.has(`algo.${k}`) && !own.includes(k)
    );
    for (const k of dropped) delete after[k];
    const kept = Object.keys(before).filter((k) =>
      k !== "name" && !typed.has(`algo.${k}`) && own.includes(k)
    );
    if (dropped.length > 0) {
      notes.push(
        `--algo.name=${def.name}: dropped ${
          dropped.map((k) => `algo.${k}`).join(", ")
        } from the config (${def.name} has no such settings)${
          kept.length > 0 ? `; kept the config's ${kept.map((k) => `algo.${k}`).join(", ")}` : ""
        }`,
      );
    }
  }
  const total = config.totalSteps ?? RUN_DEFAULTS.totalSteps;
  if (config.log === undefined) config.log = {};
  const log = config.log;
  if (Number.isInteger(total) && (total as number) >= 1 && isPlainObject(log)) {
    for (const key of ["interval", "checkpointEvery"] as const) {
      const given = log[key];
      const v = given ?? RUN_DEFAULTS.log[key];
      if (Number.isInteger(v) && (v as number) > (total as number)) {
        log[key] = total;
        notes.push(
          `log.${key} ${v}${
            given === undefined ? " (default)" : ""
          } is above totalSteps ${total}: using ${total}`,
        );
      }
    }
  }
  return { config, notes };
}

function yamlScalar(v: unknown): string {
  if (typeof v === "string") {
    return /^[A-Za-z_][\w.\-/]*$/.test(v) && !/^(true|false|null|yes|no|on|off|~)$/i.test(v)
      ? v
      : JSON.stringify(v);
  }
  return String(v);
}

/**
 * Writes a config as block YAML (keys in order; strings quoted where YAML would misread them).
 * Reading the text back with {@linkcode parseConfig} gives the same config.
 *
 * @param cfg A config (nested maps of scalars).
 * @returns YAML text ending in a newline.
 */
export function configToYaml(cfg: object): string {
  const lines: string[] = [];
  const walk = (obj: Readonly<Record<string, unknown>>, indent: string) => {
    for (const [k, v] of Object.entries(obj)) {
      if (isPlainObject(v)) {
        lines.push(`${indent}${k}:`);
        walk(v, indent + "  ");
      } else if (Array.isArray(v)) {
        lines.push(`${indent}${k}: [${v.map(yamlScalar).join(", ")}]`);
      } else {
        lines.push(`${indent}${k}: ${yamlScalar(v)}`);
      }
    }
  };
  walk(cfg as Record<string, unknown>, "");
  return lines.join("\n") + "\n";
}
