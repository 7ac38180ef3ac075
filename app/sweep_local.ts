/**
 * The local backend: runs a sweep's cells on this machine, `parallel` processes at a time, each
 * the same `app/sweep.ts cell` process a Slurm array task runs, with one combined progress
 * display (on a terminal: one line per running cell, redrawn in place; otherwise plain lines
 * prefixed with the cell's name). Each cell's output also goes to `logs/cell-<i>.log`.
 *
 * Cells run in their own sessions, so a Ctrl-C at the terminal reaches only this process, which
 * passes SIGTERM to each running cell once (they checkpoint and exit 75) and starts no more; a
 * second Ctrl-C kills them.
 *
 * @module
 */
import { formatDuration } from "./progress.ts";
import {
  cellCommandArgs,
  cellLogPath,
  RESUME_EXIT_CODE,
  SWEEP_FILES,
  type SweepFile,
  writeCellStatus,
} from "./sweep_files.ts";

/** Options of {@linkcode runLocal}. */
export interface LocalOptions {
  /** The sweep folder (absolute). */
  dir: string;
  /** The repository root (absolute): the cells' working folder. */
  repo: string;
  /** Cells to run, in order. */
  indices: readonly number[];
  /** Cells at once (>= 1). */
  parallel: number;
  /** "auto" (live on a terminal), "live", "plain" or "off". */
  progress: "auto" | "live" | "plain" | "off";
  /** Where the display goes. Default stdout. */
  write?: (text: string) => void;
  /** When aborted, running cells get SIGTERM (they checkpoint and exit 75) and no more start. */
  signal?: AbortSignal;
  /** When aborted, running cells get SIGKILL. */
  kill?: AbortSignal;
}

/** What {@linkcode runLocal} did, by cell index. */
export interface LocalResult {
  done: number[];
  failed: number[];
  interrupted: number[];
  notStarted: number[];
}

/** A running cell. */
interface Running {
  index: number;
  name: string;
  child: Deno.ChildProcess;
  started: number;
  last: string;
}

const SIGNALS: Record<string, number> = { SIGTERM: 15, SIGKILL: 9, SIGINT: 2 };

/**
 * Runs cells locally, `parallel` at a time.
 *
 * @param sweep The cells.
 * @param options Folders, which cells, how many at once, the display and the stop signal.
 * @returns The cells that finished, failed, were interrupted or never started.
 */
export async function runLocal(sweep: SweepFile, options: LocalOptions): Promise<LocalResult> {
  const encoder = new TextEncoder();
  const write = options.write ?? ((t: string) => Deno.stdout.writeSync(encoder.encode(t)));
  const mode = options.progress;
  const live = mode === "live" || (mode === "auto" && Deno.stdout.isTerminal());
  const columns = live && Deno.stdout.isTerminal() ? Deno.consoleSize().columns : 1000;
  const result: LocalResult = { done: [], failed: [], interrupted: [], notStarted: [] };
  const queue = [...options.indices];
  const running = new Map<number, Running>();
  const t0 = performance.now();
  let drawn = 0;

  const clip = (s: string) => (s.length > columns - 1 ? s.slice(0, columns - 2) + "…" : s);
  const block = (): string[] => {
    const n = options.indices.length;
    const ended = result.done.length + result.failed.length + result.interrupted.length;
    const pending = n - ended - running.size;
    const head = `sweep ${sweep.name}: ${result.done.length}/${n} done, ${running.size} running, ` +
      `${result.failed.length} failed, ${pending} pending  ` +
      formatDuration((performance.now() - t0) / 1000);
    return [head, ...[...running.values()].map((r) => `  ${r.name}  ${r.last}`)].map(clip);
  };
  const redraw = (message?: string) => {
    if (mode === "off") return;
    if (!live) {
      if (message) write(message + "\n");
      return;
    }
    let text = drawn > 0 ? `\x1b[${drawn}A\r\x1b[J` : "";
    if (message) text += message + "\n";
    const lines = block();
    text += lines.join("\n") + "\n";
    drawn = lines.length;
    write(text);
  };

  const onLine = (r: Running, line: string) => {
    // The run's plain progress lines start with its label (the cell name, or runs/<name> when
    // resumed); drop the repeat.
    const label = [r.name, `runs/${r.name}`].find((l) => line.startsWith(`${l} `));
    const text = label ? line.slice(label.length).trim() : line;
    r.last = line.startsWith("sweep cell ") ? "starting" : text;
    if (live) redraw();
    else if (mode !== "off") write(`[${r.name}] ${text}\n`);
  };

  const pump = async (r: Running, stream: ReadableStream<Uint8Array>, log: Deno.FsFile) => {
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of stream) {
      await log.write(chunk);
      buffer += decoder.decode(chunk, { stream: true });
      const lines = buffer.split(/\r?\n|\r/);
      buffer = lines.pop()!;
      for (const l of lines) if (l.trim()) onLine(r, l);
    }
    if (buffer.trim()) onLine(r, buffer);
  };

  const start = async (index: number): Promise<void> => {
    const cell = sweep.cells[index];
    const log = await Deno.open(cellLogPath(options.dir, index), {
      write: true,
      create: true,
      append: true,
    });
    const child = new Deno.Command(Deno.execPath(), {
      args: cellCommandArgs(options.dir, String(index)),
      cwd: options.repo,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      detached: true,
      env: { NO_COLOR: "1" },
    }).spawn();
    const r: Running = {
      index,
      name: cell.name,
      child,
      started: performance.now(),
      last: "starting",
    };
    running.set(index, r);
    redraw(live ? undefined : `[${cell.name}] started`);
    try {
      await Promise.all([pump(r, child.stdout, log), pump(r, child.stderr, log)]);
    } finally {
      log.close();
    }
    const status = await child.status;
    const code = status.signal !== null ? 128 + (SIGNALS[status.signal] ?? 0) : status.code;
    running.delete(index);
    await writeCellStatus(options.dir, index, {
      state: "exited",
      code,
      at: new Date().toISOString(),
    });
    const took = formatDuration((performance.now() - r.started) / 1000);
    const logPath = `${options.dir}/${SWEEP_FILES.logs}/cell-${index}.log`;
    if (code === 0) {
      result.done.push(index);
      redraw(`${cell.name}: done in ${took}`);
    } else if (code === RESUME_EXIT_CODE) {
      result.interrupted.push(index);
      redraw(`${cell.name}: checkpointed after ${took} (exit ${code}); log: ${logPath}`);
    } else {
      result.failed.push(index);
      redraw(`${cell.name}: failed after ${took} (exit ${code}): ${r.last}; log: ${logPath}`);
    }
  };

  const signalAll = (sig: "SIGTERM" | "SIGKILL", message: string) => {
    for (const r of running.values()) {
      try {
        r.child.kill(sig);
      } catch {
        // already exited
      }
    }
    redraw(message);
  };
  options.signal?.addEventListener("abort", () =>
    signalAll(
      "SIGTERM",
      `stopping: ${running.size} running cells checkpoint and exit (Ctrl-C again to kill them)`,
    ));
  options.kill?.addEventListener(
    "abort",
    () => signalAll("SIGKILL", "stopping: killing the running cells"),
  );

  const workers = Array.from(
    { length: Math.max(1, Math.min(options.parallel, queue.length)) },
    async () => {
      while (queue.length > 0 && !options.signal?.aborted) {
        await start(queue.shift()!);
      }
    },
  );
  redraw();
  await Promise.all(workers);
  result.notStarted.push(...queue);
  redraw();
  return result;
}
