/**
 * The Slurm backend: one job array per submission, one array task per cell (task id = cell
 * index), written as an `sbatch` script into the sweep folder and submitted with
 * `sbatch --parsable`; and what `squeue`/`sacct` say about the tasks, for `deno task sweep status`.
 *
 * Preemption: Slurm sends SIGUSR1 to the batch shell `grace` seconds before the time limit
 * (`--signal=B:USR1@<grace>`). The shell passes SIGTERM on to the cell — never SIGUSR1, which
 * opens Deno's debugger on 127.0.0.1:9229 (Deno ≥ 2.9.2) — and the cell finishes its submitted
 * work, checkpoints and exits 75 ("resume me"); the shell then requeues its own task with
 * `scontrol requeue <array job>_<task>`, and the next attempt resumes from the checkpoint. When
 * Slurm itself ends the job (preemption, `scancel`, the time limit), it signals every process of
 * the job: the cell checkpoints on its own SIGTERM, the shell does not requeue, and `--requeue`
 * lets Slurm requeue a preempted task itself (docs/sweeps.md §4.1).
 *
 * @module
 */
import { writeFileAtomic } from "./run_files.ts";
import { cellCommandArgs, RESUME_EXIT_CODE, SWEEP_FILES, type SweepFile } from "./sweep_files.ts";

/** A submitted job array: which cells it runs. */
export interface SlurmJob {
  jobId: string;
  indices: number[];
  submitted: string;
}

/** The state of a task that Slurm no longer lists (see {@linkcode slurmTaskStates}). */
export const NOT_LISTED = "NOT_LISTED";

/** What Slurm says about one array task. */
export interface SlurmTaskState {
  jobId: string;
  /** Slurm's state name, e.g. PENDING, RUNNING, COMPLETED, TIMEOUT; or NOT_LISTED. */
  state: string;
  /** Why it is pending, or the exit code from sacct ("" when unknown). */
  detail: string;
}

/**
 * Writes indices as a Slurm array range list: `[0, 1, 2, 5]` → `0-2,5`.
 *
 * @param indices Cell indices.
 * @returns The `--array` value without the `%` throttle.
 */
export function arrayRanges(indices: readonly number[]): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** Escapes text for the inside of a double-quoted shell word. */
function inDoubleQuotes(s: string): string {
  return s.replace(/[\\"$`]/g, "\\$&");
}

/** Options of {@linkcode slurmScript}. */
export interface SlurmScriptOptions {
  /** The sweep folder (absolute). */
  dir: string;
  /** The repository root (absolute). */
  repo: string;
  /** The Deno executable the tasks run (the `DENO` environment variable overrides it). */
  deno: string;
  /** Cells to run. */
  indices: readonly number[];
}

/**
 * The `sbatch` script of a sweep: the job array, the resources and the signal handling.
 *
 * @param sweep The cells and the Slurm settings.
 * @param options Folders, the Deno executable and the cells to run.
 * @returns The script text.
 */
export function slurmScript(sweep: SweepFile, options: SlurmScriptOptions): string {
  const { dir, repo } = options;
  const r = sweep.resources, s = sweep.slurm;
  const parallel = sweep.parallel > 0 ? sweep.parallel : options.indices.length;
  const gres = s.gres || (r.gpus > 0 ? `gpu:${r.gpus}` : "");
  const sbatch = [
    `--job-name=${sweep.name}`,
    `--array=${arrayRanges(options.indices)}%${parallel}`,
    `--output=${dir}/${SWEEP_FILES.logs}/cell-%a.log`,
    "--open-mode=append",
    "--ntasks=1",
    "--requeue",
    `--signal=B:USR1@${s.grace}`,
    ...(s.partition ? [`--partition=${s.partition}`] : []),
    ...(s.account ? [`--account=${s.account}`] : []),
    ...(s.qos ? [`--qos=${s.qos}`] : []),
    ...(gres ? [`--gres=${gres}`] : []),
    ...(r.cpus > 0 ? [`--cpus-per-task=${r.cpus}`] : []),
    ...(r.mem ? [`--mem=${r.mem}`] : []),
    ...(r.time ? [`--time=${r.time}`] : []),
    ...s.extra,
  ];
  const cell = cellCommandArgs('"$SWEEP"', '"$CELL"');
  return `#!/bin/bash
${sbatch.map((o) => `#SBATCH ${o}`).join("\n")}
#
# Sweep "${sweep.name}": array task i runs cell i of ${dir}/${SWEEP_FILES.cells}
# (written by \`deno task sweep\`). A cell that checkpoints on SIGUSR1 from Slurm (the time-limit
# warning, or \`scancel --batch --signal=USR1 <job>_<i>\`) exits ${RESUME_EXIT_CODE}, and this script requeues
# its task, which resumes from the checkpoint. See app/sweep_slurm.ts and docs/sweeps.md.
set -u
SWEEP=${shellQuote(dir)}
REPO=${shellQuote(repo)}
DENO="\${DENO:-${inDoubleQuotes(options.deno)}}"
CELL="$SLURM_ARRAY_TASK_ID"
TASK="\${SLURM_ARRAY_JOB_ID}_$CELL"
STATUS="$SWEEP/${SWEEP_FILES.logs}/cell-$CELL.status"
${s.setup.join("\n")}
child=
trapped=0
ended=0
# The time-limit warning reaches only this shell (B:); the cell gets SIGTERM, not SIGUSR1, which
# would open Deno's debugger.
trap 'trapped=1; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null' USR1
# Slurm ending the job (preemption, scancel, time limit) signals every process, the cell too.
trap 'trapped=1; ended=1' TERM
cd "$REPO" || exit 1
"$DENO" ${cell.join(" ")} &
child=$!
while :; do
  trapped=0
  wait "$child"
  rc=$?
  # A trapped signal interrupts wait while the cell still runs: wait again.
  if [ "$trapped" -eq 1 ] && [ "$rc" -gt 128 ] && kill -0 "$child" 2>/dev/null; then continue; fi
  break
done
printf '{"state":"exited","code":%d,"at":"%s","job":"%s"}\\n' "$rc" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$TASK" > "$STATUS.tmp" && mv "$STATUS.tmp" "$STATUS"
if [ "$rc" -eq ${RESUME_EXIT_CODE} ] && [ "$ended" -eq 0 ]; then
  echo "sweep: cell $CELL checkpointed (exit ${RESUME_EXIT_CODE}); requeueing $TASK"
  scontrol requeue "$TASK" && sleep 60
fi
exit "$rc"
`;
}

async function runText(
  cmd: string,
  args: string[],
): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    const d = new TextDecoder();
    return { ok: out.success, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { ok: false, stdout: "", stderr: "not found" };
    throw e;
  }
}

/** Reads `slurm/jobs.json` (empty when nothing was submitted). */
export async function readSlurmJobs(dir: string): Promise<SlurmJob[]> {
  try {
    return JSON.parse(await Deno.readTextFile(`${dir}/${SWEEP_FILES.slurmJobs}`));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

/**
 * Writes the script for `indices` and submits it with `sbatch --parsable`.
 *
 * @param sweep The cells and the Slurm settings.
 * @param options Folders, the Deno executable, the cells and `dryRun` (write, do not submit).
 * @returns The job id (null on a dry run) and the script's path.
 */
export async function submitSlurm(
  sweep: SweepFile,
  options: SlurmScriptOptions & { dryRun?: boolean },
): Promise<{ jobId: string | null; script: string }> {
  const script = `${options.dir}/${SWEEP_FILES.slurmScript}`;
  await Deno.mkdir(`${options.dir}/slurm`, { recursive: true });
  await writeFileAtomic(script, new TextEncoder().encode(slurmScript(sweep, options)));
  if (options.dryRun) return { jobId: null, script };
  const out = await runText("sbatch", ["--parsable", script]);
  if (!out.ok) {
    throw new Error(
      `Cannot submit "${script}": sbatch ${
        out.stderr === "not found" ? "is not installed" : `failed: ${out.stderr.trim()}`
      }`,
    );
  }
  const jobId = out.stdout.trim().split(";")[0];
  const jobs = await readSlurmJobs(options.dir);
  jobs.push({ jobId, indices: [...options.indices], submitted: new Date().toISOString() });
  await writeFileAtomic(
    `${options.dir}/${SWEEP_FILES.slurmJobs}`,
    new TextEncoder().encode(JSON.stringify(jobs, null, 2) + "\n"),
  );
  return { jobId, script };
}

/** Array task ids of a squeue/sacct job id: `12_3` → [3], `12_[4-6,9%2]` → [4, 5, 6, 9]. */
function taskIds(id: string): number[] {
  const m = /_\[?([\d,-]+)/.exec(id);
  if (!m) return [];
  return m[1].split(",").flatMap((part) => {
    const [a, b] = part.split("-").map(Number);
    return b === undefined ? [a] : Array.from({ length: b - a + 1 }, (_, k) => a + k);
  });
}

/**
 * What Slurm knows about the sweep's array tasks: `squeue` (queued, running and recently ended
 * tasks), then `sacct` for tasks squeue no longer lists. Either command may be missing or fail
 * (no accounting storage): its part is then left out.
 *
 * @param jobs The submitted jobs, oldest first.
 * @returns Cell index → the state of its latest job.
 */
export async function slurmTaskStates(
  jobs: readonly SlurmJob[],
): Promise<Map<number, SlurmTaskState>> {
  const out = new Map<number, SlurmTaskState>();
  for (const job of jobs) {
    const found = new Map<number, SlurmTaskState>();
    const q = await runText("squeue", [
      "-h",
      "-r",
      "--states=all",
      "-j",
      job.jobId,
      "-o",
      "%i|%T|%r",
    ]);
    if (q.ok) {
      for (const line of q.stdout.split("\n").filter(Boolean)) {
        const [id, state, reason] = line.split("|");
        for (const t of taskIds(id)) {
          const detail = reason && reason !== "None" ? reason : "";
          found.set(t, { jobId: `${job.jobId}_${t}`, state, detail });
        }
      }
    }
    if (job.indices.some((i) => !found.has(i))) {
      const a = await runText("sacct", [
        "-n",
        "-P",
        "-X",
        "-j",
        job.jobId,
        "-o",
        "JobID,State,ExitCode",
      ]);
      if (a.ok) {
        for (const line of a.stdout.split("\n").filter(Boolean)) {
          const [id, state, code] = line.split("|");
          for (const t of taskIds(id)) {
            if (!found.has(t)) {
              found.set(t, {
                jobId: `${job.jobId}_${t}`,
                state: state.split(" ")[0],
                detail: `exit ${code}`,
              });
            }
          }
        }
      }
    }
    // A later submission of a cell supersedes an earlier one. A task that squeue (which
    // answered) and sacct do not list has left the queue: cancelled before it started, or ended
    // longer ago than Slurm's MinJobAge.
    for (const i of job.indices) {
      const s = found.get(i) ??
        (q.ok ? { jobId: `${job.jobId}_${i}`, state: NOT_LISTED, detail: "" } : undefined);
      if (s) out.set(i, s);
      else out.delete(i);
    }
  }
  return out;
}
