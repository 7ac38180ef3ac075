/**
 * CLI behind `deno task sweep`: expands a sweep file into cells and runs them on a backend —
 * this machine, a Slurm job array, or (as a manifest) a Kubernetes Indexed Job.
 *
 * ```sh
 * deno task sweep lr.yaml                      # run every cell here, one at a time
 * deno task sweep lr.yaml --parallel 4         # four at a time
 * deno task sweep lr.yaml --backend slurm      # submit a job array, print its id
 * deno task sweep status sweeps/lr             # done / running / failed / pending
 * deno task sweep resume sweeps/lr             # rerun the cells that are not done
 * deno task report sweeps/lr                   # one report over every cell
 * ```
 *
 * The sweep file format and the cluster recipes: `docs/sweeps.md`; the folder layout:
 * `app/sweep_files.ts`.
 *
 * @module
 */
import { exists } from "./run_files.ts";
import { k8sManifestYaml } from "./sweep_k8s.ts";
import { runLocal } from "./sweep_local.ts";
import { submitSlurm } from "./sweep_slurm.ts";
import { cellRunArgs, runCell } from "./sweep_cell.ts";
import { loadSweep } from "./sweep_spec.ts";
import {
  cellRunDir,
  RESUME_EXIT_CODE,
  runStarted,
  SWEEP_FILES,
  type SweepBackend,
  type SweepFile,
  writeSweep,
} from "./sweep_files.ts";
import { statusText, sweepStatus } from "./sweep_status.ts";

/** Usage text of `deno task sweep --help`. */
export const SWEEP_USAGE = `Usage: deno task sweep <sweep.yaml> [options]
       deno task sweep status <sweep dir>
       deno task sweep resume <sweep dir> [options]

Expands a sweep file (configs × tasks × override grid, seeds per cell; docs/sweeps.md) into
cells, writes sweeps/<name>/ (cells.json, configs/, runs/<cell>/, logs/) and runs the cells.

Options:
  --backend B     local (default: run here), slurm (submit a job array with sbatch) or k8s
                  (write and print a Kubernetes Indexed Job manifest); default: the file's backend
  --parallel N    cells at once (local processes, Slurm's --array %N); default: the file's
  --root DIR      folder for sweep folders (default sweeps)
  --name NAME     sweep folder name (default: the file's name, else its stem)
  --dry-run       write the folder (and the sbatch script) and print what would run
  --plain         plain progress lines even on a terminal
  --quiet         no progress output
  --help          show this help

status: each cell's state, from its run folder and status file, and squeue/sacct when the sweep
was submitted to Slurm. resume: reruns (or resubmits) the cells that are not done or queued;
started cells continue from their checkpoints.

Related: deno task run <config>   deno task report <sweep dir>`;

/** Parsed command line of `deno task sweep`. */
export interface SweepArgs {
  command: "new" | "status" | "resume" | "cell" | "help";
  /** The sweep file (new) or folder. */
  target: string;
  /** The cell index (cell). */
  index: number;
  backend: SweepBackend | null;
  parallel: number | null;
  root: string;
  name: string | null;
  dryRun: boolean;
  progress: "auto" | "plain" | "off";
}

const VALUE_FLAGS = ["backend", "parallel", "root", "name"];

/** Signals closer together than this are one stop request [ms]. */
const REPEAT_MS = 500;

/**
 * Parses `deno task sweep` arguments.
 *
 * @param argv The arguments (Deno.args).
 * @returns The parsed arguments.
 */
export function parseSweepArgs(argv: readonly string[]): SweepArgs {
  const out: SweepArgs = {
    command: "new",
    target: "",
    index: -1,
    backend: null,
    parallel: null,
    root: "sweeps",
    name: null,
    dryRun: false,
    progress: "auto",
  };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "-h" || arg === "--help") return { ...out, command: "help" };
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const key = arg.slice(2, eq < 0 ? undefined : eq);
    if (key === "dry-run" || key === "plain" || key === "quiet") {
      if (eq >= 0) throw new TypeError(`Cannot parse arguments: --${key} takes no value`);
      if (key === "dry-run") out.dryRun = true;
      else out.progress = key === "plain" ? "plain" : "off";
      continue;
    }
    if (!VALUE_FLAGS.includes(key)) {
      throw new TypeError(`Cannot parse arguments: unknown option "--${key}" (see --help)`);
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value.startsWith("--")) {
      throw new TypeError(`Cannot parse arguments: --${key} needs a value`);
    }
    if (key === "backend") {
      if (!["local", "slurm", "k8s"].includes(value)) {
        throw new TypeError(
          `Cannot parse arguments: --backend must be local, slurm or k8s, got "${value}"`,
        );
      }
      out.backend = value as SweepBackend;
    } else if (key === "parallel") {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) {
        throw new RangeError(
          `Cannot parse arguments: --parallel must be an integer >= 1, got "${value}"`,
        );
      }
      out.parallel = n;
    } else if (key === "root") out.root = value;
    else out.name = value;
  }
  const [first, ...rest] = positional;
  if (first === "status" || first === "resume" || first === "cell") {
    out.command = first;
    const want = first === "cell" ? 2 : 1;
    if (rest.length !== want) {
      throw new TypeError(
        `Cannot parse arguments: "${first}" takes ${
          first === "cell" ? "a sweep folder and a cell index" : "one sweep folder"
        }, got ${rest.length} arguments`,
      );
    }
    out.target = rest[0].replace(/\/+$/, "");
    if (first === "cell") {
      out.index = Number(rest[1]);
      if (!Number.isInteger(out.index) || out.index < 0) {
        throw new RangeError(`Cannot parse arguments: cell index must be >= 0, got "${rest[1]}"`);
      }
    }
  } else if (positional.length === 1) {
    out.target = first;
  } else {
    throw new TypeError(
      `Cannot parse arguments: give one sweep file (got ${positional.length} arguments; see --help)`,
    );
  }
  return out;
}

/** The repository root (this file is `app/sweep.ts`). */
function repoRoot(): string {
  const url = new URL("../", import.meta.url);
  if (url.protocol !== "file:") {
    throw new TypeError(`Cannot run sweep cells from ${url.href}: not a local checkout`);
  }
  return decodeURIComponent(url.pathname).replace(/\/+$/, "");
}

function print(text: string): void {
  console.log(text);
}

/** Runs `indices` on `backend`; returns the exit code. */
async function dispatch(
  dir: string,
  sweep: SweepFile,
  indices: number[],
  args: SweepArgs,
): Promise<number> {
  const backend = args.backend ?? sweep.backend;
  if (backend === "k8s") {
    const path = `${dir}/${SWEEP_FILES.k8sManifest}`;
    const text = await k8sManifestYaml(sweep);
    await Deno.mkdir(`${dir}/k8s`, { recursive: true });
    await Deno.writeTextFile(path, text);
    print(text.trimEnd());
    print(`\nmanifest: ${path} (apply with: kubectl apply -f ${path})`);
    return 0;
  }
  if (backend === "slurm") {
    const r = await submitSlurm(sweep, {
      dir,
      repo: repoRoot(),
      deno: Deno.execPath(),
      indices,
      dryRun: args.dryRun,
    });
    if (r.jobId === null) {
      print((await Deno.readTextFile(r.script)).trimEnd());
      print(`\nscript: ${r.script} (submit with: sbatch ${r.script})`);
    } else {
      print(r.jobId);
      print(
        `submitted job array ${r.jobId}: ${indices.length} cells of sweep "${sweep.name}"; ` +
          `status: deno task sweep status ${dir}`,
      );
    }
    return 0;
  }
  if (args.dryRun) {
    for (const i of indices) {
      const cell = sweep.cells[i];
      const run = cellRunDir(dir, cell);
      const runArgs = await runStarted(run) ? ["--resume", run] : cellRunArgs(dir, cell);
      print(`cell ${i}: deno task run ${runArgs.join(" ")}`);
    }
    return 0;
  }
  // First SIGINT/SIGTERM: the cells checkpoint and exit; a second one kills them. A terminal's
  // Ctrl-C reaches this process twice at once (from the terminal, and forwarded by `deno task`),
  // so repeats within REPEAT_MS count as one.
  const stop = new AbortController(), kill = new AbortController();
  let stoppedAt = 0;
  const onSignal = () => {
    if (!stop.signal.aborted) {
      stoppedAt = performance.now();
      stop.abort();
    } else if (performance.now() - stoppedAt > REPEAT_MS) kill.abort();
  };
  const signals = ["SIGINT", "SIGTERM"] as const;
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  try {
    const r = await runLocal(sweep, {
      dir,
      repo: repoRoot(),
      indices,
      parallel: args.parallel ?? (sweep.parallel || 1),
      progress: args.progress,
      signal: stop.signal,
      kill: kill.signal,
    });
    if (args.progress !== "off") {
      print(
        `sweep ${sweep.name}: ${r.done.length} done, ${r.failed.length} failed, ${
          r.interrupted.length + r.notStarted.length
        } to resume; outputs in ${dir}`,
      );
      if (r.interrupted.length + r.notStarted.length + r.failed.length > 0) {
        print(`continue with: deno task sweep resume ${dir}`);
      } else print(`report: deno task report ${dir}`);
    }
    if (r.failed.length > 0) return 1;
    return r.interrupted.length + r.notStarted.length > 0 ? RESUME_EXIT_CODE : 0;
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
  }
}

/** `deno task sweep <file>`: expands, writes the folder, runs. */
async function newSweep(args: SweepArgs): Promise<number> {
  const { sweep, configTexts, text } = await loadSweep(args.target);
  if (args.name !== null) sweep.name = args.name;
  if (args.backend !== null) sweep.backend = args.backend;
  if (args.parallel !== null) sweep.parallel = args.parallel;
  const dir0 = `${args.root}/${sweep.name}`;
  if (await exists(dir0)) {
    throw new TypeError(
      `Cannot start sweep "${sweep.name}": folder "${dir0}" already exists (continue it with deno task sweep resume ${dir0}, or choose another --name)`,
    );
  }
  for (const sub of [SWEEP_FILES.configs, SWEEP_FILES.runs, SWEEP_FILES.logs]) {
    await Deno.mkdir(`${dir0}/${sub}`, { recursive: true });
  }
  const dir = await Deno.realPath(dir0);
  await Deno.writeTextFile(`${dir}/${SWEEP_FILES.spec}`, text);
  for (const [file, t] of configTexts) await Deno.writeTextFile(`${dir}/${file}`, t);
  await writeSweep(dir, sweep);
  if (args.progress !== "off" && sweep.backend === "local" && !args.dryRun) {
    print(`sweep ${sweep.name}: ${sweep.cells.length} cells in ${dir0}`);
  }
  return await dispatch(dir, sweep, sweep.cells.map((c) => c.index), args);
}

/** `deno task sweep resume <dir>`: reruns the cells that are not done, queued or running. */
async function resumeSweep(args: SweepArgs): Promise<number> {
  const dir = await Deno.realPath(args.target).catch(() => args.target);
  const { sweep, cells } = await sweepStatus(dir);
  const todo = cells.filter((c) => c.state !== "done" && c.state !== "running" && !c.queued)
    .map((c) => c.index);
  if (args.backend !== null && args.backend !== sweep.backend) {
    await writeSweep(dir, { ...sweep, backend: args.backend });
  }
  if (args.parallel !== null) sweep.parallel = args.parallel;
  if (todo.length === 0) {
    print(`sweep ${sweep.name}: nothing to resume\n${statusText(sweep, cells)}`);
    return 0;
  }
  if (args.progress !== "off") {
    print(`sweep ${sweep.name}: resuming ${todo.length} of ${sweep.cells.length} cells`);
  }
  return await dispatch(dir, sweep, todo, args);
}

/**
 * Runs the CLI.
 *
 * @param argv Arguments.
 * @returns The exit code: 0, 1 on an error or a failed cell, 75 when cells remain to resume.
 */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const args = parseSweepArgs(argv);
    switch (args.command) {
      case "help":
        print(SWEEP_USAGE);
        return 0;
      case "status": {
        const { sweep, cells } = await sweepStatus(args.target);
        print(statusText(sweep, cells));
        return 0;
      }
      case "resume":
        return await resumeSweep(args);
      case "cell":
        return await runCell(args.target, args.index);
      case "new":
        return await newSweep(args);
    }
  } catch (e) {
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
