/**
 * Training progress on the console: a live bar on a terminal (steps, env-steps/s, recent mean
 * return, ETA), plain lines otherwise (CI, log files). A status line from the first second
 * (building, compiling kernels), a heartbeat between log points (`tick`, from the loop's slices:
 * at least every few seconds whatever the log interval), "warming replay n/N" before learning
 * starts, and an ETA from the rate measured once learning runs. Only numbers the host already has
 * (no GPU reads). A closed stdout (`| head`) silences the display; it never stops training.
 *
 * @module
 */

/** What one update shows. */
export interface ProgressUpdate {
  /** Env steps done. */
  envSteps: number;
  /** Env steps per second over the run so far (this process). */
  stepsPerSecond: number;
  /** Mean return of the episodes finished in the last interval (NaN if none). */
  meanReturn: number;
  /** Episodes finished in the last interval. */
  episodes: number;
}

/** Options of {@linkcode createProgress}. */
export interface ProgressOptions {
  /** Total env steps of the run. */
  total: number;
  /** Prefix (run name, seed). */
  label: string;
  /** Live bar (true) or plain lines (false). Default: `Deno.stdout.isTerminal()`. */
  live?: boolean;
  /** Where text goes. Default: stdout. */
  write?: (text: string) => void;
  /** Bar width in characters. Default 24. */
  width?: number;
  /**
   * Env steps before learning starts (replay warm-up; 0: none). The ETA uses the rate measured
   * after it, and ticks before it read "warming replay n/N".
   */
  warmupSteps?: number;
  /** Seconds between plain heartbeat lines. Default 10 (live: every tick). */
  tickSeconds?: number;
  /** Clock [ms] (tests). Default `performance.now`. */
  now?: () => number;
}

/** A progress display. */
export interface Progress {
  /** A log point's row. */
  update(u: ProgressUpdate): void;
  /** Between log points: the host's env-step counter (shown at most every `tickSeconds`). */
  tick(envSteps: number): void;
  /** A one-line status ("building …", "compiling kernels …"). */
  status(text: string): void;
  /** Ends the live line (prints a newline) and prints `message` if given. */
  finish(message?: string): void;
}

/**
 * A writer that stops writing, silently, once the stream is closed (`BrokenPipe`): a run piped
 * into `head` keeps training.
 *
 * @param write The raw writer.
 * @returns The guarded writer.
 */
export function guardedWriter(write: (text: string) => void): (text: string) => void {
  let closed = false;
  return (text) => {
    if (closed) return;
    try {
      write(text);
    } catch (e) {
      if (e instanceof Deno.errors.BrokenPipe) closed = true;
      else throw e;
    }
  };
}

/** Formats seconds as `1h02m`, `3m04s` or `12s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s >= 3600) {
    return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, "0")}m`;
  }
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

function formatReturn(v: number): string {
  return Number.isFinite(v) ? v.toFixed(3) : "–";
}

/**
 * One progress line (without bar or newline): steps, percentage, steps/s, return, ETA.
 *
 * @param u The update.
 * @param total Total env steps.
 * @returns The text.
 */
export function progressText(u: ProgressUpdate, total: number): string {
  const pct = Math.min(100, (100 * u.envSteps) / total);
  const eta = u.stepsPerSecond > 0 ? (total - u.envSteps) / u.stepsPerSecond : NaN;
  return `${u.envSteps.toLocaleString("en-US")}/${total.toLocaleString("en-US")} steps (${
    pct.toFixed(0)
  }%)  ${Math.round(u.stepsPerSecond).toLocaleString("en-US")} steps/s  return ${
    formatReturn(u.meanReturn)
  } (${u.episodes} eps)  ETA ${formatDuration(eta)}`;
}

/**
 * Creates a progress display.
 *
 * @param options Total steps, label and output.
 * @returns The display.
 */
export function createProgress(options: ProgressOptions): Progress {
  const live = options.live ?? Deno.stdout.isTerminal();
  const encoder = new TextEncoder();
  const write = guardedWriter(
    options.write ?? ((t: string) => Deno.stdout.writeSync(encoder.encode(t))),
  );
  const width = options.width ?? 24;
  const now = options.now ?? (() => performance.now());
  const warmup = options.warmupSteps ?? 0;
  const tickMs = 1000 * (options.tickSeconds ?? 10);
  let drawn = false;
  let lastShown = -Infinity;
  let last: ProgressUpdate = { envSteps: 0, stepsPerSecond: 0, meanReturn: NaN, episodes: 0 };
  // The learning phase's rate: from the first report past the warm-up.
  let learnFrom: { t: number; steps: number } | null = null;
  const rate = (steps: number, fallback: number) => {
    const t = now();
    if (steps >= warmup && learnFrom === null) learnFrom = { t, steps };
    if (!learnFrom || t - learnFrom.t < 1000) return steps < warmup ? 0 : fallback;
    return (steps - learnFrom.steps) / ((t - learnFrom.t) / 1000);
  };
  const show = (line: string, envSteps: number) => {
    lastShown = now();
    if (live) {
      const filled = Math.round((width * Math.min(envSteps, options.total)) / options.total);
      const bar = "█".repeat(filled) + "░".repeat(width - filled);
      write(`\r\x1b[2K${options.label} ${bar} ${line}`);
      drawn = true;
    } else {
      write(`${options.label} ${line}\n`);
    }
  };
  return {
    update(u) {
      last = { ...u, stepsPerSecond: rate(u.envSteps, u.stepsPerSecond) || u.stepsPerSecond };
      show(progressText(last, options.total), u.envSteps);
    },
    tick(envSteps) {
      const r = rate(envSteps, last.stepsPerSecond);
      if (!live && now() - lastShown < tickMs) return;
      if (envSteps < warmup) {
        show(
          `warming replay ${envSteps.toLocaleString("en-US")}/${
            warmup.toLocaleString("en-US")
          } steps`,
          envSteps,
        );
        return;
      }
      show(progressText({ ...last, envSteps, stepsPerSecond: r }, options.total), envSteps);
    },
    status(text) {
      if (live && drawn) write("\n");
      drawn = false;
      write(`${options.label} ${text}\n`);
    },
    finish(message) {
      if (live && drawn) write("\n");
      drawn = false;
      if (message) write(`${message}\n`);
    },
  };
}
