/**
 * Run folders on disk, with nothing but the file system: the file names of a seed folder, the
 * metrics rows (JSON Lines), YAML text, atomic writes. The report command reads runs through this
 * module alone, so it loads no algorithm, environment or engine.
 *
 * @module
 */

/** File names inside a seed folder. */
export const RUN_FILES = Object.freeze({
  config: "config.yaml",
  jsonl: "metrics.jsonl",
  csv: "metrics.csv",
  checkpoint: "checkpoint.safetensors",
  /** The best model so far (runs whose evaluation protocol has `best`), same format. */
  best: "best.safetensors",
  report: "report.html",
});

/** An evaluation's result in a metrics row, under the protocol's names. Units in brackets. */
export interface EvalRow {
  /** What `value` is, in the paper's words, e.g. "team return (20 greedy episodes)". */
  protocol: string;
  /** The evaluation's number (team or per-agent mean return over the episodes). */
  value: number;
  /** Episodes evaluated. */
  episodes: number;
  /** "greedy" or "stochastic". */
  policy: string;
  /** "team" (summed over agents) or "agent" (mean per agent). */
  returns: string;
  /** Mean return per agent over the episodes. */
  returnPerAgent: number[];
  /** Mean episode length [steps]. */
  meanLength: number;
  /**
   * With best-model tracking: the best value so far (the value reported for the paper, e.g.
   * "final evaluation return (best model, 100 stochastic episodes)") and its env steps.
   */
  best?: { protocol: string; value: number; envSteps: number };
}

/** One row of `metrics.jsonl` / `metrics.csv`. Units in brackets. */
export interface MetricsRow {
  /** Env steps so far [steps, summed over envs]. */
  envSteps: number;
  /** Wall time since the run started, summed over resumed sessions [s]. */
  wallSeconds: number;
  /** Env steps per second over the interval (wall time, an evaluation at its end included). */
  stepsPerSecond: number;
  /** Episodes finished in the interval. */
  episodes: number;
  /** Mean episode return over agents (NaN, written null, when no episode finished). */
  meanReturn: number;
  /** Mean finished-episode length [steps]. */
  meanLength: number;
  /** Mean return per agent. */
  returnPerAgent: number[];
  /** Algorithm scalars (losses, ε …). */
  scalars: Record<string, number>;
  /** The evaluation at this row's env steps (rows of runs with an evaluation protocol only). */
  eval?: EvalRow;
}

/**
 * A config's `env` in words: a task name as it is; a map as its `name` followed by its options
 * in parentheses, e.g. `Foraging-8x8-2p-2f-coop (maxEpisodeSteps 25, timeLimit truncate)`.
 *
 * @param env The `env` of a config (validated or as read from a run's config.yaml).
 * @returns The label ("?" when there is none).
 */
export function envLabel(env: unknown): string {
  if (typeof env !== "object" || env === null || Array.isArray(env)) return String(env ?? "?");
  const { name, ...options } = env as Record<string, unknown>;
  const parts = Object.entries(options).map(([k, v]) => `${k} ${v}`);
  return parts.length > 0 ? `${String(name ?? "?")} (${parts.join(", ")})` : String(name ?? "?");
}

/** Encodes a row as one JSON line (NaN → null). */
export function rowToJson(row: MetricsRow): string {
  return JSON.stringify(row, (_k, v) => typeof v === "number" && !Number.isFinite(v) ? null : v);
}

/** Decodes a JSON line (null → NaN). */
export function rowFromJson(line: string): MetricsRow {
  const r = JSON.parse(line);
  const num = (v: unknown) => (v === null ? NaN : v as number);
  const row: MetricsRow = {
    envSteps: r.envSteps,
    wallSeconds: r.wallSeconds,
    stepsPerSecond: r.stepsPerSecond,
    episodes: r.episodes,
    meanReturn: num(r.meanReturn),
    meanLength: num(r.meanLength),
    returnPerAgent: (r.returnPerAgent as unknown[]).map(num),
    scalars: Object.fromEntries(Object.entries(r.scalars ?? {}).map(([k, v]) => [k, num(v)])),
  };
  if (r.eval) {
    const e = r.eval;
    row.eval = {
      protocol: String(e.protocol),
      value: num(e.value),
      episodes: e.episodes,
      policy: String(e.policy),
      returns: String(e.returns),
      returnPerAgent: (e.returnPerAgent as unknown[]).map(num),
      meanLength: num(e.meanLength),
    };
    if (e.best) {
      row.eval.best = {
        protocol: String(e.best.protocol),
        value: num(e.best.value),
        envSteps: e.best.envSteps,
      };
    }
  }
  return row;
}

/** Reads `metrics.jsonl` of a seed folder (empty when absent). */
export async function readMetricsRows(dir: string): Promise<MetricsRow[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${dir}/${RUN_FILES.jsonl}`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  const lines = text.split("\n").filter((l) => l.trim());
  const rows: MetricsRow[] = [];
  for (const [i, line] of lines.entries()) {
    try {
      rows.push(rowFromJson(line));
    } catch (e) {
      // A kill during the append can leave a partial last line; it is after any checkpoint.
      if (i === lines.length - 1) break;
      throw new SyntaxError(
        `Cannot read "${dir}/${RUN_FILES.jsonl}": line ${i + 1}: ${(e as Error).message}`,
      );
    }
  }
  return rows;
}

/**
 * Parses YAML text to a plain value (no validation). The `yaml` package is loaded on first use,
 * so importing this module (or `mod.ts` by URL) does not need it.
 *
 * @param text YAML text.
 * @param source Name used in errors (file or preset).
 * @returns The parsed document.
 */
export async function parseYaml(text: string, source: string): Promise<unknown> {
  const { parse } = await import("yaml");
  try {
    return parse(text);
  } catch (e) {
    const msg = (e instanceof Error ? e.message : String(e)).split("\n")[0];
    throw new SyntaxError(`Cannot read config "${source}": invalid YAML: ${msg}`);
  }
}

/**
 * Writes `bytes` to `path` atomically: a temp file in the same folder, fsync, rename over `path`.
 * A crash at any point leaves either the old file or the new one, never a partial file.
 *
 * @param path Destination.
 * @param bytes Contents.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const slash = path.lastIndexOf("/");
  const dir = slash >= 0 ? path.slice(0, slash) : ".";
  const tmp = `${dir}/.${path.slice(slash + 1)}.tmp-${Deno.pid}-${
    crypto.getRandomValues(new Uint32Array(1))[0].toString(16)
  }`;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  try {
    let pos = 0;
    while (pos < bytes.length) pos += await file.write(bytes.subarray(pos));
    await file.sync();
  } catch (e) {
    file.close();
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  file.close();
  try {
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** Whether `path` exists (other errors than NotFound are thrown). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Collects, in name order, the folders under `dir` (itself included) that `isLeaf` accepts,
 * searching at most `depth` levels below it and not below an accepted folder (hidden folders
 * skipped). Shared by the report's run search and the export's seed search.
 *
 * @param dir Folder to search.
 * @param depth Levels below `dir` to search.
 * @param isLeaf Whether a folder is one to collect.
 * @param out Where accepted folders are appended.
 */
export async function collectFolders(
  dir: string,
  depth: number,
  isLeaf: (dir: string) => Promise<boolean>,
  out: string[],
): Promise<void> {
  if (await isLeaf(dir)) {
    out.push(dir);
    return;
  }
  if (depth === 0) return;
  const children: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory && !e.name.startsWith(".")) children.push(e.name);
  }
  children.sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  for (const c of children) await collectFolders(`${dir}/${c}`, depth - 1, isLeaf, out);
}
