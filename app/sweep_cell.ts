/**
 * One cell of a sweep, as every backend runs it (`deno run … app/sweep.ts cell <dir> <index>`):
 * reads `cells.json`, decides between a fresh start and `--resume`, and runs `deno task run`'s
 * `main` in this process.
 *
 * @module
 */
import { exists, RUN_FILES } from "./run_files.ts";
import {
  cellRunDir,
  hostName,
  readSweep,
  runStarted,
  SWEEP_FILES,
  type SweepCell,
  writeCellStatus,
} from "./sweep_files.ts";

/**
 * The `deno task run` arguments of a cell that starts afresh (a resumed cell runs
 * `--resume <run dir>` instead).
 *
 * @param dir The sweep folder.
 * @param cell The cell.
 * @returns The arguments.
 */
export function cellRunArgs(dir: string, cell: SweepCell): string[] {
  return [
    `${dir}/${cell.config}`,
    ...cell.overrides.map(([p, v]) => `--${p}=${v}`),
    `--name=${cell.name}`,
    ...(cell.seeds > 1 ? ["--seeds", String(cell.seeds)] : []),
    "--root",
    `${dir}/${SWEEP_FILES.runs}`,
  ];
}

/** Removes a run folder that holds no file (a start killed before its config was written). */
async function removeEmptyRun(run: string): Promise<void> {
  const files: string[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      if (e.isDirectory) await walk(`${d}/${e.name}`);
      else files.push(`${d}/${e.name}`);
    }
  };
  await walk(run);
  if (files.length > 0) {
    throw new TypeError(
      `Cannot start cell in "${run}": the folder holds ${files.length} files but no ${RUN_FILES.config}`,
    );
  }
  await Deno.remove(run, { recursive: true });
}

/**
 * Runs one cell: `deno task run`'s `main` in this process (so that a scheduler's signals reach one
 * Deno process), with `--resume` when the cell's run folder has started. Writes the cell's status
 * file before and after, and prints a first line that says what runs where.
 *
 * @param dir The sweep folder.
 * @param index The cell index.
 * @returns The run's exit code (0 done, 75 checkpointed on a signal, 1 error).
 */
export async function runCell(dir: string, index: number): Promise<number> {
  const sweep = await readSweep(dir);
  const cell = sweep.cells[index];
  if (!cell) {
    throw new RangeError(
      `Cannot run cell ${index} of "${dir}": the sweep has ${sweep.cells.length} cells`,
    );
  }
  const run = cellRunDir(dir, cell);
  const env = (k: string) => Deno.env.get(k);
  const job = env("SLURM_ARRAY_JOB_ID")
    ? `${env("SLURM_ARRAY_JOB_ID")}_${env("SLURM_ARRAY_TASK_ID")}`
    : env("JOB_COMPLETION_INDEX") !== undefined
    ? `pod ${env("HOSTNAME")}`
    : undefined;
  const attempt = Number(env("SLURM_RESTART_COUNT") ?? 0) + 1;
  const host = hostName();
  const since = new Date().toISOString();
  await writeCellStatus(dir, cell.index, {
    state: "running",
    host,
    pid: Deno.pid,
    since,
    job,
    attempt,
  });
  let runArgs: string[];
  if (await runStarted(run)) runArgs = ["--resume", run];
  else {
    if (await exists(run)) await removeEmptyRun(run);
    runArgs = cellRunArgs(dir, cell);
  }
  runArgs.push("--plain");
  console.log(
    `sweep cell ${cell.index} "${cell.name}" on ${host}${
      job ? ` (job ${job}, attempt ${attempt})` : ""
    } at ${since}: deno task run ${runArgs.join(" ")}`,
  );
  const { main: runMain } = await import("./run.ts");
  const code = await runMain(runArgs);
  await writeCellStatus(dir, cell.index, {
    state: "exited",
    code,
    at: new Date().toISOString(),
    job,
  });
  return code;
}
