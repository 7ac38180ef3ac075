/**
 * `deno task sweep status <dir>`: each cell's state — done, running, pending, interrupted
 * (checkpointed, to resume) or failed — from its status file and run folder, and from Slurm's
 * `squeue`/`sacct` when the sweep was submitted there and the commands are available.
 *
 * @module
 */
import { readMetricsRows } from "./run_files.ts";
import {
  cellRunDir,
  hostName,
  readCellStatus,
  readSweep,
  RESUME_EXIT_CODE,
  type SweepFile,
} from "./sweep_files.ts";
import { NOT_LISTED, readSlurmJobs, type SlurmTaskState, slurmTaskStates } from "./sweep_slurm.ts";

/** The state of a cell. */
export type CellState = "done" | "running" | "pending" | "interrupted" | "failed";

/** One cell's line of the status. */
export interface CellStatus {
  index: number;
  name: string;
  state: CellState;
  /** Why: the exit code, Slurm's state or reason, the host. */
  detail: string;
  /** Env steps logged, summed over the cell's seeds. */
  steps: number;
  /** Env steps of the whole cell (totalSteps × seeds). */
  total: number;
  /** Slurm lists the cell's task as pending or running. */
  queued: boolean;
}

/** Env steps of the last metrics row of each seed folder (`seed-*`, or the run folder), summed. */
async function stepsDone(runDir: string): Promise<number> {
  const dirs: string[] = [];
  try {
    for await (const e of Deno.readDir(runDir)) {
      if (e.isDirectory && /^seed-\d+$/.test(e.name)) dirs.push(`${runDir}/${e.name}`);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return 0;
    throw e;
  }
  let sum = 0;
  for (const d of dirs.length ? dirs : [runDir]) {
    sum += (await readMetricsRows(d)).at(-1)?.envSteps ?? 0;
  }
  return sum;
}

/** Whether process `pid` of this machine is alive (`kill -0`; /proc needs --allow-all). */
async function processAlive(pid: number): Promise<boolean> {
  try {
    const out = await new Deno.Command("kill", {
      args: ["-0", String(pid)],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return true; // cannot tell: trust the status file
  }
}

/** Slurm's word for a task that ended, e.g. "cancelled", "timeout (exit 0:15)". */
function slurmWords(q: SlurmTaskState): string {
  if (q.state === NOT_LISTED) return "left the queue";
  return `${q.state.toLowerCase()}${q.detail ? ` (${q.detail})` : ""}`;
}

const SLURM_QUEUED = new Set(["PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "SUSPENDED"]);
const SLURM_RUNNING = new Set(["RUNNING", "CONFIGURING", "COMPLETING", "RESIZING", "SIGNALING"]);

/**
 * Each cell's state.
 *
 * @param dir The sweep folder.
 * @returns The sweep and one status per cell, in cell order.
 */
export async function sweepStatus(
  dir: string,
): Promise<{ sweep: SweepFile; cells: CellStatus[] }> {
  const sweep = await readSweep(dir);
  const jobs = await readSlurmJobs(dir);
  const slurm = jobs.length > 0 ? await slurmTaskStates(jobs) : new Map<number, SlurmTaskState>();
  const host = hostName();
  const cells: CellStatus[] = [];
  for (const cell of sweep.cells) {
    const record = await readCellStatus(dir, cell.index);
    const q = slurm.get(cell.index);
    let state: CellState, detail: string;
    if (q && SLURM_QUEUED.has(q.state)) {
      state = "pending";
      detail = `job ${q.jobId} ${q.state.toLowerCase()}${q.detail ? ` (${q.detail})` : ""}`;
    } else if (q && SLURM_RUNNING.has(q.state)) {
      state = "running";
      detail = `job ${q.jobId}${record?.state === "running" ? ` on ${record.host}` : ""}`;
    } else if (record?.state === "exited") {
      const job = record.job ? `job ${record.job}, ` : "";
      if (record.code === 0) [state, detail] = ["done", `${job}exit 0`];
      else if (record.code === RESUME_EXIT_CODE) {
        [state, detail] = ["interrupted", `${job}checkpointed (exit ${record.code}), resumable`];
      } else [state, detail] = ["failed", `${job}exit ${record.code}`];
    } else if (record?.state === "running") {
      if (q) {
        // Slurm ended the task without the script's bookkeeping (time limit, node failure).
        [state, detail] = ["failed", `job ${q.jobId} ${slurmWords(q)} without an exit status`];
      } else if (record.host === host && !await processAlive(record.pid)) {
        [state, detail] = [
          "failed",
          `process ${record.pid}${host ? ` on ${host}` : ""} ended without an exit status`,
        ];
      } else {
        [state, detail] = [
          "running",
          `on ${record.host}${record.job ? `, job ${record.job}` : ""}`,
        ];
      }
    } else if (q) {
      // Slurm ended the task before the cell started (cancelled while pending, a failed launch).
      [state, detail] = ["failed", `job ${q.jobId} ${slurmWords(q)} before the cell started`];
    } else [state, detail] = ["pending", "not started"];
    cells.push({
      index: cell.index,
      name: cell.name,
      state,
      detail,
      steps: await stepsDone(cellRunDir(dir, cell)),
      total: cell.totalSteps * cell.seeds,
      queued: Boolean(q && (SLURM_QUEUED.has(q.state) || SLURM_RUNNING.has(q.state))),
    });
  }
  return { sweep, cells };
}

/**
 * The status as text: a summary line, then one line per cell.
 *
 * @param sweep The sweep.
 * @param cells Its cells' states.
 * @returns The text (no trailing newline).
 */
export function statusText(sweep: SweepFile, cells: readonly CellStatus[]): string {
  const count = (s: CellState) => cells.filter((c) => c.state === s).length;
  const parts = (["done", "running", "failed", "pending", "interrupted"] as const)
    .filter((s) => s !== "interrupted" || count(s) > 0)
    .map((s) => `${count(s)} ${s}`);
  const width = Math.max(...cells.map((c) => c.name.length), 4);
  const lines = [
    `sweep ${sweep.name} (${sweep.backend}): ${cells.length} cells, ${parts.join(", ")}`,
  ];
  for (const c of cells) {
    const pct = c.total > 0 ? Math.floor((100 * c.steps) / c.total) : 0;
    lines.push(
      `  ${c.name.padEnd(width)}  ${c.state.padEnd(11)} ${`${pct}%`.padStart(4)} ${
        c.steps.toLocaleString("en-US")
      }/${c.total.toLocaleString("en-US")} steps  ${c.detail}`
        .trimEnd(),
    );
  }
  return lines.join("\n");
}
