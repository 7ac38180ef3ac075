/**
 * Training progress on the console: a live bar on a terminal (steps, env-steps/s, recent mean
 * return, ETA), one plain line per log point otherwise (CI, log files). Updated only at log points,
 * from numbers the host already has (no GPU reads).
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
}

/** A progress display. */
export interface Progress {
  update(u: ProgressUpdate): void;
  /** Ends the live line (prints a newline) and prints `message` if given. */
  finish(message?: string): void;
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
  const write = options.write ?? ((t: string) => Deno.stdout.writeSync(encoder.encode(t)));
  const width = options.width ?? 24;
  let drawn = false;
  return {
    update(u) {
      const text = progressText(u, options.total);
      if (live) {
        const filled = Math.round((width * Math.min(u.envSteps, options.total)) / options.total);
        const bar = "█".repeat(filled) + "░".repeat(width - filled);
        write(`\r\x1b[2K${options.label} ${bar} ${text}`);
        drawn = true;
      } else {
        write(`${options.label} ${text}\n`);
      }
    },
    finish(message) {
      if (live && drawn) write("\n");
      drawn = false;
      if (message) write(`${message}\n`);
    },
  };
}
