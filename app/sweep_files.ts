/**
 * Sweep folders on disk, with nothing but the file system (the report command reads sweeps
 * through this module, so it loads no algorithm, environment or engine).
 *
 * ```
 * sweeps/<name>/
 *   sweep.yaml            the sweep file as given
 *   cells.json            the expanded cells: what each one runs, and the backend's settings
 *   configs/<stem>.yaml   the config text each cell starts from (presets copied at expansion)
 *   runs/<cell>/          one run folder per cell (seed-<k>/ inside with several seeds)
 *   logs/cell-<i>.log     the cell's output, every attempt appended
 *   logs/cell-<i>.status  JSON: {"state":"running",…} while it runs, {"state":"exited","code":…}
 *   slurm/sweep.sbatch    the job-array script; slurm/jobs.json: the submitted jobs
 *   k8s/job.yaml          the Indexed Job manifest (backend k8s)
 * ```
 *
 * @module
 */
import { exists, RUN_FILES, writeFileAtomic } from "./run_files.ts";

/** Names inside a sweep folder. */
export const SWEEP_FILES = Object.freeze({
  spec: "sweep.yaml",
  cells: "cells.json",
  configs: "configs",
  runs: "runs",
  logs: "logs",
  slurmScript: "slurm/sweep.sbatch",
  slurmJobs: "slurm/jobs.json",
  k8sManifest: "k8s/job.yaml",
});

/** Exit status of a cell that checkpointed on a signal and wants to be resumed (EX_TEMPFAIL). */
export const RESUME_EXIT_CODE = 75;

/** Format tag of `cells.json`. */
export const CELLS_FORMAT = "marl-sweep/1";

/** Where cells run. */
export type SweepBackend = "local" | "slurm" | "k8s";

/** Per-cell resources (Slurm and Kubernetes). Empty or 0: the cluster's default. */
export interface CellResources {
  /** GPUs per cell (Slurm `--gres=gpu:N`, Kubernetes `nvidia.com/gpu`). */
  gpus: number;
  /** CPU cores per cell (`--cpus-per-task`). */
  cpus: number;
  /** Memory per cell, e.g. "16G" (`--mem`). */
  mem: string;
  /** Time limit per attempt, e.g. "04:00:00" (`--time`). */
  time: string;
}

/** Slurm settings of a sweep. */
export interface SlurmOptions {
  partition: string;
  /** `--gres` value; "" derives `gpu:<resources.gpus>` (none with 0 GPUs). */
  gres: string;
  account: string;
  qos: string;
  /** Seconds before the time limit at which Slurm warns the cell (`--signal=B:USR1@<grace>`). */
  grace: number;
  /** More `#SBATCH` options, e.g. "--constraint=a100". */
  extra: string[];
  /** Shell lines run before the cell, e.g. "module load cuda". */
  setup: string[];
}

/** Kubernetes settings of a sweep (the manifest of `--backend k8s`). */
export interface K8sOptions {
  /** Container image holding Deno and this repository. */
  image: string;
  namespace: string;
  /** PersistentVolumeClaim that holds the sweep folder. */
  volumeClaim: string;
  /** Where the claim is mounted; the sweep folder is `<mountPath>/<name>`. */
  mountPath: string;
  /** The repository inside the image. */
  repo: string;
  /** Retries per cell that are not "resume me" exits (`backoffLimitPerIndex`). */
  retries: number;
}

/** One cell: one process running `deno task run` with these arguments. */
export interface SweepCell {
  /** Position in the cell list; the Slurm array task id and Kubernetes completion index. */
  index: number;
  /** Run folder name under `runs/`. */
  name: string;
  /** Config file the cell starts from, relative to the sweep folder (`configs/<stem>.yaml`). */
  config: string;
  /** Dotted-path overrides, as `--path=value` on the command line. */
  overrides: [string, string][];
  /** Seeds of the cell (`--seeds`), run in the one process. */
  seeds: number;
  /** Env steps per seed (the config's totalSteps), for progress. */
  totalSteps: number;
}

/** Contents of `cells.json`. */
export interface SweepFile {
  format: typeof CELLS_FORMAT;
  name: string;
  /** When the sweep was expanded (ISO 8601). */
  created: string;
  backend: SweepBackend;
  /** Cells at once (local processes, Slurm's `%N`, Kubernetes parallelism). */
  parallel: number;
  resources: CellResources;
  slurm: SlurmOptions;
  k8s: K8sOptions;
  cells: SweepCell[];
}

/** What a cell's status file says. */
export type CellStatusRecord =
  | { state: "running"; host: string; pid: number; since: string; job?: string; attempt?: number }
  | { state: "exited"; code: number; at: string; job?: string };

/** Permissions a cell process needs: those of `deno task run`, and the host name. */
export const CELL_PERMISSIONS: readonly string[] = Object.freeze([
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-net",
  "--allow-sys=hostname",
]);

/** This machine's name (`HOSTNAME`, or "", without `--allow-sys=hostname`; never prompts). */
export function hostName(): string {
  const allowed = Deno.permissions.querySync({ name: "sys", kind: "hostname" }).state === "granted";
  return allowed ? Deno.hostname() : Deno.env.get("HOSTNAME") ?? "";
}

/**
 * The command line that runs one cell, relative to the repository root: `deno run … app/sweep.ts
 * cell <dir> <index>`. Every backend runs this (local processes, Slurm array tasks, Kubernetes
 * pods), so a cell computes the same everywhere.
 *
 * @param dir The sweep folder (absolute, as the worker sees it).
 * @param index The cell index, or a shell or Kubernetes expression that gives it.
 * @returns The arguments after the Deno executable.
 */
export function cellCommandArgs(dir: string, index: string): string[] {
  return ["run", ...CELL_PERMISSIONS, "app/sweep.ts", "cell", dir, index];
}

/** The run folder of a cell. */
export function cellRunDir(dir: string, cell: SweepCell): string {
  return `${dir}/${SWEEP_FILES.runs}/${cell.name}`;
}

/** The log file of cell `index` (every attempt appended). */
export function cellLogPath(dir: string, index: number): string {
  return `${dir}/${SWEEP_FILES.logs}/cell-${index}.log`;
}

/** The status file of cell `index`. */
export function cellStatusPath(dir: string, index: number): string {
  return `${dir}/${SWEEP_FILES.logs}/cell-${index}.status`;
}

/**
 * Reads `cells.json` of a sweep folder.
 *
 * @param dir The sweep folder.
 * @returns The cells and the backend settings.
 */
export async function readSweep(dir: string): Promise<SweepFile> {
  const path = `${dir}/${SWEEP_FILES.cells}`;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new TypeError(`Cannot read sweep "${dir}": it has no ${SWEEP_FILES.cells}`);
    }
    throw e;
  }
  let sweep: SweepFile;
  try {
    sweep = JSON.parse(text);
  } catch (e) {
    throw new SyntaxError(`Cannot read sweep "${path}": ${(e as Error).message}`);
  }
  if (sweep?.format !== CELLS_FORMAT || !Array.isArray(sweep.cells)) {
    throw new TypeError(
      `Cannot read sweep "${path}": format is ${
        JSON.stringify(sweep?.format)
      }, expected "${CELLS_FORMAT}"`,
    );
  }
  return sweep;
}

/** Writes `cells.json` atomically. */
export async function writeSweep(dir: string, sweep: SweepFile): Promise<void> {
  await writeFileAtomic(
    `${dir}/${SWEEP_FILES.cells}`,
    new TextEncoder().encode(JSON.stringify(sweep, null, 2) + "\n"),
  );
}

/** Reads cell `index`'s status file (null when the cell never started). */
export async function readCellStatus(dir: string, index: number): Promise<CellStatusRecord | null> {
  try {
    const record = JSON.parse(await Deno.readTextFile(cellStatusPath(dir, index)));
    return record?.state === "running" || record?.state === "exited" ? record : null;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof SyntaxError) return null;
    throw e;
  }
}

/** Writes cell `index`'s status file atomically. */
export async function writeCellStatus(
  dir: string,
  index: number,
  record: CellStatusRecord,
): Promise<void> {
  await writeFileAtomic(
    cellStatusPath(dir, index),
    new TextEncoder().encode(JSON.stringify(record) + "\n"),
  );
}

/** Whether `path` is a sweep folder (it has `cells.json`). */
export async function isSweepDir(path: string): Promise<boolean> {
  return await exists(`${path.replace(/\/+$/, "")}/${SWEEP_FILES.cells}`);
}

/** Whether a run folder has started: its config.yaml, or a seed folder's, exists. */
export async function runStarted(runDir: string): Promise<boolean> {
  if (await exists(`${runDir}/${RUN_FILES.config}`)) return true;
  try {
    for await (const e of Deno.readDir(runDir)) {
      if (
        e.isDirectory && /^seed-\d+$/.test(e.name) &&
        await exists(`${runDir}/${e.name}/${RUN_FILES.config}`)
      ) return true;
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
  return false;
}

/**
 * The run folders behind a path given to `deno task report`: a sweep folder gives its cells' run
 * folders that have started, in cell order; any other path is a run folder and comes back as is.
 *
 * @param path A sweep folder or a run folder.
 * @returns Run folders.
 *
 * @example A run folder is returned as it is
 * ```ts
 * import { sweepRunDirs } from "./sweep_files.ts";
 *
 * console.log(await sweepRunDirs("runs/my-run")); // ["runs/my-run"]
 * ```
 */
export async function sweepRunDirs(path: string): Promise<string[]> {
  const dir = path.replace(/\/+$/, "");
  if (!await isSweepDir(dir)) return [dir];
  const sweep = await readSweep(dir);
  const out: string[] = [];
  for (const cell of sweep.cells) {
    const run = cellRunDir(dir, cell);
    if (await runStarted(run)) out.push(run);
  }
  if (out.length === 0) {
    throw new TypeError(`Cannot read sweep "${dir}": none of its ${sweep.cells.length} cells ran`);
  }
  return out;
}
