/**
 * Sweep files: YAML that names configs (presets or files), tasks, an override grid and seeds,
 * validated like configs (unknown keys are errors naming the dotted path), and their expansion
 * into cells — one process each, every cell's config validated before anything runs.
 *
 * ```yaml
 * name: seac-lr                      # folder sweeps/<name>/ (default: the file's stem)
 * configs: [seac_quick, iac.yaml]    # presets, or files relative to the sweep file
 * tasks: [Foraging-5x5-2p-1f, Foraging-8x8-2p-2f-coop]   # sets `env` (or `env.name`)
 * grid: { algo.lr: [3e-4, 1e-3] }    # every combination, last key fastest
 * overrides: { totalSteps: 100000 }  # every cell
 * seeds: 3                           # per cell, in one process (`--seeds 3`)
 * ```
 *
 * The format, the backends' keys and their defaults: `docs/sweeps.md`.
 *
 * @module
 */
import { applyOverrides, parseConfig, parseScalar, parseYaml } from "./config.ts";
import { findPreset } from "./presets.ts";
import type {
  CellResources,
  K8sOptions,
  SlurmOptions,
  SweepBackend,
  SweepCell,
  SweepFile,
} from "./sweep_files.ts";
import { CELLS_FORMAT } from "./sweep_files.ts";

/** A validated sweep file, before expansion. */
export interface SweepSpec {
  name: string;
  /** Preset names or config paths (relative to the sweep file), outermost loop. */
  configs: string[];
  /** Task names ([] keeps each config's own `env`). */
  tasks: string[];
  /** Dotted path and its values, in file order (the last varies fastest). */
  grid: [string, unknown[]][];
  /** Dotted path and value text, applied to every cell before its task and grid values. */
  overrides: [string, string][];
  seeds: number;
  backend: SweepBackend;
  /** Cells at once; 0: the backend's default (1 locally, all cells on a cluster). */
  parallel: number;
  resources: CellResources;
  slurm: SlurmOptions;
  k8s: K8sOptions;
}

/** Defaults of the `resources` section. */
export const RESOURCE_DEFAULTS: Readonly<CellResources> = Object.freeze({
  gpus: 1,
  cpus: 0,
  mem: "",
  time: "",
});

/** Defaults of the `slurm` section. */
export const SLURM_DEFAULTS: Readonly<SlurmOptions> = Object.freeze({
  partition: "",
  gres: "",
  account: "",
  qos: "",
  grace: 120,
  extra: [],
  setup: [],
});

/** Defaults of the `k8s` section. */
export const K8S_DEFAULTS: Readonly<K8sOptions> = Object.freeze({
  image: "marl-webgpu:latest",
  namespace: "default",
  volumeClaim: "sweeps",
  mountPath: "/sweeps",
  repo: "/app",
  retries: 3,
});

const BACKENDS: readonly SweepBackend[] = ["local", "slurm", "k8s"];
const TOP_KEYS = [
  "name",
  "configs",
  "tasks",
  "grid",
  "overrides",
  "seeds",
  "backend",
  "parallel",
  "resources",
  "slurm",
  "k8s",
];
const NAME_RE = /^[A-Za-z0-9][\w.-]*$/;

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  return typeof v === "string" ? `"${v}"` : Array.isArray(v) ? "a list" : String(v);
}

/** Flattens nested maps to dotted paths: `{ log: { interval: 5 } }` → `[["log.interval", 5]]`. */
function flatten(v: Record<string, unknown>, prefix = ""): [string, unknown][] {
  return Object.entries(v).flatMap(([k, x]) =>
    isMap(x) ? flatten(x, `${prefix}${k}.`) : [[`${prefix}${k}`, x] as [string, unknown]]
  );
}

/**
 * The command-line text of an override value, read back by `parseOverrideValue` (app/config.ts)
 * as the same value.
 *
 * @param value A number, boolean or string, or a flat list of them.
 * @returns The text (strings that would read as another type are quoted).
 */
export function overrideText(value: unknown): string {
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value === "string") return parseScalar(value) === value ? value : `"${value}"`;
  if (Array.isArray(value) && value.every((x) => !Array.isArray(x) && typeof x !== "object")) {
    return `[${value.map(overrideText).join(", ")}]`; // a flow list (parseOverrideValue)
  }
  throw new TypeError(`expected a number, string, boolean or list of them, got ${show(value)}`);
}

/** Reads one section against its defaults, rejecting unknown keys and wrong types. */
function section<T extends object>(
  raw: unknown,
  defaults: Readonly<T>,
  name: string,
  problems: string[],
): T {
  const out = structuredClone(defaults) as Record<string, unknown>;
  if (raw === undefined || raw === null) return out as T;
  if (!isMap(raw)) {
    problems.push(`"${name}" must be a map, got ${show(raw)}`);
    return out as T;
  }
  for (const [k, v] of Object.entries(raw)) {
    const d = (defaults as Record<string, unknown>)[k];
    if (d === undefined) {
      problems.push(`unknown key "${name}.${k}" (known: ${Object.keys(defaults).join(", ")})`);
    } else if (Array.isArray(d)) {
      const list = typeof v === "string" ? [v] : v;
      if (!Array.isArray(list) || list.some((x) => typeof x !== "string")) {
        problems.push(`"${name}.${k}" must be a list of strings, got ${show(v)}`);
      } else out[k] = list;
    } else if (typeof d === "number") {
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
        problems.push(`"${name}.${k}" must be an integer >= 0, got ${show(v)}`);
      } else out[k] = v;
    } else if (typeof v !== "string" && typeof v !== "number") {
      problems.push(`"${name}.${k}" must be a string, got ${show(v)}`);
    } else out[k] = String(v);
  }
  return out as T;
}

/**
 * Validates a parsed sweep file.
 *
 * @param raw The parsed YAML.
 * @param source File name for errors; its stem is the default sweep name.
 * @returns The sweep.
 */
export function validateSweep(raw: unknown, source: string): SweepSpec {
  if (!isMap(raw)) {
    throw new TypeError(`Cannot read sweep "${source}": expected a map of keys, got ${show(raw)}`);
  }
  const problems: string[] = [];
  for (const k of Object.keys(raw)) {
    if (!TOP_KEYS.includes(k)) {
      problems.push(`unknown key "${k}" (known: ${TOP_KEYS.join(", ")})`);
    }
  }
  const stem = source.split("/").at(-1)!.replace(/\.ya?ml$/, "");
  const name = raw.name ?? stem;
  if (typeof name !== "string" || !NAME_RE.test(name)) {
    problems.push(`"name" must be letters, digits, ".", "_" or "-", got ${show(name)}`);
  }
  const strings = (key: string, v: unknown, required: boolean): string[] => {
    const list = typeof v === "string" ? [v] : v ?? [];
    if (!Array.isArray(list) || list.some((x) => typeof x !== "string" || x === "")) {
      problems.push(`"${key}" must be a name or a list of names, got ${show(v)}`);
      return [];
    }
    if (required && list.length === 0) problems.push(`"${key}" must name at least one config`);
    return list as string[];
  };
  const configs = strings("configs", raw.configs, true);
  const tasks = strings("tasks", raw.tasks, false);
  const grid: [string, unknown[]][] = [];
  if (raw.grid !== undefined && !isMap(raw.grid)) {
    problems.push(`"grid" must be a map of dotted paths to lists, got ${show(raw.grid)}`);
  }
  for (const [path, values] of Object.entries(isMap(raw.grid) ? raw.grid : {})) {
    if (!Array.isArray(values) || values.length === 0) {
      problems.push(`"grid.${path}" must be a non-empty list, got ${show(values)}`);
      continue;
    }
    for (const v of values) {
      for (const [, x] of isMap(v) ? flatten(v) : [["", v] as [string, unknown]]) {
        try {
          overrideText(x);
        } catch (e) {
          problems.push(`"grid.${path}" values: ${(e as Error).message}`);
        }
      }
    }
    grid.push([path, values]);
  }
  const overrides: [string, string][] = [];
  if (raw.overrides !== undefined && !isMap(raw.overrides)) {
    problems.push(
      `"overrides" must be a map of dotted paths to values, got ${show(raw.overrides)}`,
    );
  }
  for (const [path, v] of flatten(isMap(raw.overrides) ? raw.overrides : {})) {
    try {
      overrides.push([path, overrideText(v)]);
    } catch (e) {
      problems.push(`"overrides.${path}": ${(e as Error).message}`);
    }
  }
  const seeds = raw.seeds ?? 1;
  if (typeof seeds !== "number" || !Number.isInteger(seeds) || seeds < 1) {
    problems.push(`"seeds" must be an integer >= 1, got ${show(seeds)}`);
  }
  const backend = raw.backend ?? "local";
  if (!BACKENDS.includes(backend as SweepBackend)) {
    problems.push(`"backend" must be one of ${BACKENDS.join(", ")}, got ${show(backend)}`);
  }
  const parallel = raw.parallel ?? 0;
  if (typeof parallel !== "number" || !Number.isInteger(parallel) || parallel < 0) {
    problems.push(`"parallel" must be an integer >= 0, got ${show(parallel)}`);
  }
  const spec: SweepSpec = {
    name: name as string,
    configs,
    tasks,
    grid,
    overrides,
    seeds: seeds as number,
    backend: backend as SweepBackend,
    parallel: parallel as number,
    resources: section(raw.resources, RESOURCE_DEFAULTS, "resources", problems),
    slurm: section(raw.slurm, SLURM_DEFAULTS, "slurm", problems),
    k8s: section(raw.k8s, K8S_DEFAULTS, "k8s", problems),
  };
  if (problems.length > 0) {
    throw new TypeError(`Cannot read sweep "${source}": ${problems.join("; ")}`);
  }
  return spec;
}

/** A value in a cell name: letters, digits, ".", "_", "-". */
function slug(text: string): string {
  return text.replace(/[^\w.-]+/g, "-").replace(/^-+|-+$/g, "");
}

function valueLabel(v: unknown): string {
  return isMap(v) ? flatten(v).map(([k, x]) => `${k}-${String(x)}`).join("_") : String(v);
}

/** Every combination of the grid's values, the last key varying fastest. */
function combinations(grid: readonly [string, unknown[]][]): [string, unknown][][] {
  let out: [string, unknown][][] = [[]];
  for (const [path, values] of grid) {
    out = out.flatMap((combo) => values.map((v) => [...combo, [path, v] as [string, unknown]]));
  }
  return out;
}

/** Options of {@linkcode expandSweep}. */
export interface ExpandOptions {
  /** Folder that config paths are relative to (the sweep file's folder). */
  baseDir: string;
  /** Reads a config file (default: Deno.readTextFile). */
  readFile?: (path: string) => Promise<string>;
}

/** What {@linkcode expandSweep} gives: the cells and the config texts to copy. */
export interface ExpandedSweep {
  sweep: SweepFile;
  /** `configs/<stem>.yaml` → YAML text, for every config the cells start from. */
  configTexts: Map<string, string>;
}

/**
 * Expands a sweep into cells: configs × tasks × grid, each cell's effective config validated
 * (so a typo fails here, not on the cluster an hour later).
 *
 * @param spec The validated sweep.
 * @param options Where config paths are relative to.
 * @returns The cell list and the config texts.
 */
export async function expandSweep(spec: SweepSpec, options: ExpandOptions): Promise<ExpandedSweep> {
  const read = options.readFile ?? ((p: string) => Deno.readTextFile(p));
  const configTexts = new Map<string, string>();
  const bases: { label: string; file: string; text: string; raw: unknown }[] = [];
  for (const c of spec.configs) {
    let text: string, stem: string;
    if (/\.ya?ml$/.test(c) || c.includes("/")) {
      const path = c.startsWith("/") ? c : `${options.baseDir}/${c}`;
      try {
        text = await read(path);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) {
          throw new TypeError(`Cannot read config "${path}": file not found`);
        }
        throw e;
      }
      stem = slug(c.split("/").at(-1)!.replace(/\.ya?ml$/, ""));
    } else {
      text = (await findPreset(c)).text;
      stem = c;
    }
    let file = `configs/${stem}.yaml`;
    for (let k = 2; configTexts.has(file); k++) file = `configs/${stem}-${k}.yaml`;
    configTexts.set(file, text);
    bases.push({ label: stem, file, text, raw: await parseYaml(text, c) });
  }
  const tasks: (string | null)[] = spec.tasks.length ? spec.tasks : [null];
  const combos = combinations(spec.grid);
  const total = bases.length * tasks.length * combos.length;
  const width = Math.max(3, String(total - 1).length);
  const cells: SweepCell[] = [];
  for (const base of bases) {
    // A task replaces `env`, or only its name when the config's env is a map of options.
    const env = applyOverrides(base.raw ?? {}, spec.overrides).env;
    const taskPath = typeof env === "object" && env !== null ? "env.name" : "env";
    for (const task of tasks) {
      for (const combo of combos) {
        const index = cells.length;
        const parts: string[] = [];
        if (bases.length > 1) parts.push(base.label);
        if (task !== null && tasks.length > 1) parts.push(task);
        for (const [path, v] of combo) {
          if (spec.grid.find(([p]) => p === path)![1].length > 1) {
            parts.push(`${path.split(".").at(-1)}-${valueLabel(v)}`);
          }
        }
        if (parts.length === 0) parts.push(base.label);
        const name = `${String(index).padStart(width, "0")}-${slug(parts.join("_"))}`.slice(0, 120);
        const overrides: [string, string][] = [...spec.overrides];
        if (task !== null) overrides.push([taskPath, overrideText(task)]);
        for (const [path, v] of combo) {
          const pairs = isMap(v) ? flatten(v, `${path}.`) : [[path, v] as [string, unknown]];
          for (const [p, x] of pairs) overrides.push([p, overrideText(x)]);
        }
        const config = await parseConfig(base.text, {
          source: `${base.label} (cell ${index} "${name}")`,
          overrides: [...overrides, ["name", name]],
        });
        if (config.seed + spec.seeds - 1 > 2 ** 32 - 1) {
          throw new RangeError(`Cannot expand cell ${index}: seed + seeds must stay below 2^32`);
        }
        cells.push({
          index,
          name,
          config: base.file,
          overrides,
          seeds: spec.seeds,
          totalSteps: config.totalSteps,
        });
      }
    }
  }
  const sweep: SweepFile = {
    format: CELLS_FORMAT,
    name: spec.name,
    created: new Date().toISOString(),
    backend: spec.backend,
    parallel: spec.parallel,
    resources: spec.resources,
    slurm: spec.slurm,
    k8s: spec.k8s,
    cells,
  };
  return { sweep, configTexts };
}

/**
 * Reads and expands a sweep file.
 *
 * @param path The sweep file.
 * @returns The cell list and the config texts.
 */
export async function loadSweep(path: string): Promise<ExpandedSweep & { text: string }> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new TypeError(`Cannot read sweep "${path}": file not found`);
    }
    throw e;
  }
  const spec = validateSweep(await parseYaml(text, path), path);
  const slash = path.lastIndexOf("/");
  const expanded = await expandSweep(spec, { baseDir: slash >= 0 ? path.slice(0, slash) : "." });
  return { ...expanded, text };
}
