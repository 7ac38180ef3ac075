/**
 * Reading run folders for the report: which folders are runs (a run folder holds `config.yaml`,
 * or `seed-<k>/` folders that do; a sweep folder lists its cells' run folders; any other folder is
 * searched for run folders), and each seed's curves: every metric the rows hold, grouped.
 *
 * @module
 */
import { isSweepDir, sweepRunDirs } from "./sweep_files.ts";
import {
  collectFolders,
  exists,
  type MetricsRow,
  parseYaml,
  readMetricsRows,
  RUN_FILES,
} from "./run_files.ts";

/** `[envSteps, value]` points; null where nothing was logged (no episode finished). */
export type Points = [number, number | null][];

/** One seed's curves. */
export interface SeedSeries {
  seed: number;
  dir: string;
  /** Mean episode return (over agents) per row. */
  returns: Points;
  /** Mean finished-episode length per row. */
  lengths: Points;
  /** Env steps/s per row. */
  throughput: Points;
  /** Return of each agent: `perAgent[agent]`. */
  perAgent: Points[];
  /** Each algorithm scalar by name (losses, entropy, gradient norm, ε …). */
  scalars: Record<string, Points>;
  /** The evaluation value at the evaluation rows (empty without evaluation). */
  evals: [number, number | null][];
  /** The reported evaluation number: the best model's value with `best`, else the last; or null. */
  evalFinal: number | null;
}

const SEED_DIR = /^seed-\d+$/;

async function seedChildren(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (
      e.isDirectory && SEED_DIR.test(e.name) && await exists(`${dir}/${e.name}/${RUN_FILES.config}`)
    ) {
      out.push(`${dir}/${e.name}`);
    }
  }
  return out.sort((a, b) => Number(a.split("-").at(-1)) - Number(b.split("-").at(-1)));
}

/**
 * The seed folders of a run folder: its `seed-<k>/` folders (by k), or the folder itself.
 *
 * @param dir A run folder.
 * @returns Seed folders (each with a config.yaml, except a lone run folder, checked on reading).
 */
export async function seedDirsOf(dir: string): Promise<string[]> {
  try {
    const seeds = await seedChildren(dir);
    return seeds.length > 0 ? seeds : [dir];
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new TypeError(`Cannot read run "${dir}": folder not found`);
    }
    if (e instanceof Deno.errors.NotADirectory) {
      throw new TypeError(`Cannot read run "${dir}": it is a file; give the run folder`);
    }
    throw e;
  }
}

/**
 * The run folders behind the paths given to `deno task report`: a run folder as is; a sweep
 * folder's started cells; any other folder searched (depth 3) for run folders, in name order.
 *
 * @param paths Run folders, sweep folders or folders of run folders.
 * @returns Run folders, each listed once.
 */
export async function findRunDirs(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  const isRun = async (dir: string) =>
    await exists(`${dir}/${RUN_FILES.config}`) || (await seedChildren(dir)).length > 0;
  for (const p of paths) {
    const dir = p.replace(/\/+$/, "") || "/";
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(dir);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new TypeError(`Cannot read run "${dir}": folder not found`);
      }
      throw e;
    }
    if (!info.isDirectory) {
      throw new TypeError(`Cannot read run "${dir}": it is a file; give the run folder`);
    }
    if (await isSweepDir(dir)) {
      out.push(...await sweepRunDirs(dir));
      continue;
    }
    const before = out.length;
    await collectFolders(dir, 3, isRun, out);
    if (out.length === before) {
      throw new TypeError(
        `Cannot read run "${dir}": no run folder (with ${RUN_FILES.config}) in it`,
      );
    }
  }
  return [...new Set(out)];
}

/**
 * Reads a seed folder's config.yaml (as a plain map, not validated).
 *
 * @param dir A seed folder.
 * @returns The config.
 */
export async function readRunConfig(dir: string): Promise<Record<string, unknown>> {
  const path = `${dir}/${RUN_FILES.config}`;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new TypeError(`Cannot read run "${dir}": it has no ${RUN_FILES.config}`);
    }
    throw e;
  }
  const cfg = await parseYaml(text, path);
  if (typeof cfg !== "object" || cfg === null || Array.isArray(cfg)) {
    throw new TypeError(`Cannot read run "${dir}": ${RUN_FILES.config} is not a map`);
  }
  return cfg as Record<string, unknown>;
}

/**
 * The adapter a seed ran on, when its folder records it: `metadata.json` with
 * `adapter.description` (or a `device` string). Null when not recorded.
 *
 * @param dir A seed folder.
 * @returns The adapter's description, or null.
 */
export async function readDevice(dir: string): Promise<string | null> {
  try {
    const meta = JSON.parse(await Deno.readTextFile(`${dir}/metadata.json`));
    const d = meta?.adapter?.description ?? meta?.device;
    return typeof d === "string" && d ? d : null;
  } catch {
    return null;
  }
}

function finite(v: number | undefined): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/**
 * One seed's curves from its metrics rows.
 *
 * @param seed The seed.
 * @param dir Its folder.
 * @param rows Its metrics rows.
 * @returns The curves.
 */
export function seedSeries(seed: number, dir: string, rows: readonly MetricsRow[]): SeedSeries {
  const agents = Math.max(0, ...rows.map((r) => r.returnPerAgent.length));
  const names = [...new Set(rows.flatMap((r) => Object.keys(r.scalars)))];
  const evalRows = rows.filter((r) => r.eval);
  const last = evalRows.at(-1)?.eval;
  const reported = last ? (last.best?.value ?? last.value) : NaN;
  return {
    seed,
    dir,
    returns: rows.map((r) => [r.envSteps, finite(r.meanReturn)]),
    lengths: rows.map((r) => [r.envSteps, finite(r.meanLength)]),
    throughput: rows.map((r) => [r.envSteps, finite(r.stepsPerSecond)]),
    perAgent: Array.from(
      { length: agents },
      (_, a) => rows.map((r): [number, number | null] => [r.envSteps, finite(r.returnPerAgent[a])]),
    ),
    scalars: Object.fromEntries(
      names.map((
        n,
      ) => [n, rows.map((r): [number, number | null] => [r.envSteps, finite(r.scalars[n])])]),
    ),
    evals: evalRows.map((r) => [r.envSteps, finite(r.eval!.value)]),
    evalFinal: finite(reported),
  };
}

/**
 * Reads one seed folder: config, curves, device.
 *
 * @param dir A seed folder.
 * @returns Its config, curves, evaluation names and device.
 */
export async function readSeed(dir: string): Promise<{
  config: Record<string, unknown>;
  series: SeedSeries;
  evalNames: { name: string; reported: string } | null;
  device: string | null;
}> {
  const config = await readRunConfig(dir);
  const rows = await readMetricsRows(dir);
  const last = rows.filter((r) => r.eval).at(-1)?.eval;
  return {
    config,
    series: seedSeries(Number(config.seed), dir, rows),
    evalNames: last
      ? { name: last.protocol, reported: last.best?.protocol ?? last.protocol }
      : null,
    device: await readDevice(dir),
  };
}

/** The metric group a scalar belongs to: its panel's title. */
export function scalarGroup(name: string): string {
  if (/loss|crossentropy/i.test(name)) return "Losses";
  if (/entropy/i.test(name)) return "Entropy";
  if (/grad/i.test(name)) return "Gradient norm";
  return "Other metrics";
}
