/**
 * `deno task parity <golden.jsonl>…`: checks recorded trajectories (`peers-golden/1` files, see
 * `tests/fixtures/golden/README.md`) against our environments. Each file's env is built from its
 * header's `config`; every step is replayed on the CPU reference and on the GPU env from the
 * recorded state, actions and random draws (`envs/parity.ts`). Prints per file
 * `parity: <file> N steps, M mismatches (CPU a, GPU b)` and the first mismatches (line, step,
 * field, got, want); exits 1 when any file mismatches or cannot be read or replayed.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { createEngine, type Engine } from "../engine/device.ts";
import { parseGolden } from "../envs/golden.ts";
import type { GoldenMismatch } from "../envs/golden_replay.ts";
import { checkGoldenParity, GOLDEN_REPLAYS, type ParityReport } from "../envs/parity.ts";

const USAGE = `Usage: deno task parity [--cpu-only] [--show N] <golden.jsonl>...

Replays every step of each recorded trajectory on the CPU reference and on the GPU env (built
from the file's header config, with the recorded random draws) and compares exactly, floats to
1e-6. Families: ${Object.keys(GOLDEN_REPLAYS).join(", ")}. Format: tests/fixtures/golden/README.md.

  --cpu-only   replay on the CPU reference only (no WebGPU adapter needed)
  --show N     mismatches to print per file (default 5)
  -h, --help   this text

Exit status: 0 when every file matches, 1 on any mismatch or unreadable file.`;

/** Parsed command line of {@linkcode parityMain}. */
export interface ParityArgs {
  help: boolean;
  cpuOnly: boolean;
  show: number;
  files: string[];
}

/**
 * Parses the arguments of `deno task parity`.
 *
 * @param argv Arguments after the task name.
 * @returns The options and files.
 * @throws TypeError on an unknown option, a bad `--show` or no file.
 */
export function parseParityArgs(argv: readonly string[]): ParityArgs {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: {
      help: { type: "boolean", short: "h", default: false },
      "cpu-only": { type: "boolean", default: false },
      show: { type: "string", default: "5" },
    },
    allowPositionals: true,
    strict: true,
  });
  const show = Number(values.show);
  if (!Number.isInteger(show) || show < 0) {
    throw new TypeError(`--show must be an integer >= 0, got "${values.show}"`);
  }
  if (!values.help && positionals.length === 0) {
    throw new TypeError("no golden file given (see --help)");
  }
  return { help: values.help, cpuOnly: values["cpu-only"], show, files: positionals };
}

/** A JSON value cut to `max` characters for one line of output. */
function brief(v: unknown, max = 160): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** One printed line per mismatch: side, line, step, field, got and want. */
export function formatMismatch(m: GoldenMismatch): string {
  return `  ${m.side.toUpperCase()} line ${m.line} (${m.where}) ${m.field}: got ${
    brief(m.got)
  }, want ${brief(m.want)}`;
}

/** The summary line of one file, then its first `show` mismatches. */
export function formatReport(path: string, r: ParityReport, show: number): string[] {
  const gpu = r.gpu
    ? `GPU ${r.gpu.mismatches.length}`
    : r.gpuError !== undefined
    ? "GPU failed"
    : "GPU not run";
  const head =
    `parity: ${path} ${r.steps} steps, ${r.mismatchedLines} mismatches (CPU ${r.cpu.mismatches.length}, ${gpu})`;
  const all = [...r.cpu.mismatches, ...(r.gpu?.mismatches ?? [])]
    .sort((a, b) => a.line - b.line || (a.side === b.side ? 0 : a.side === "cpu" ? -1 : 1));
  const lines = [head, ...all.slice(0, show).map(formatMismatch)];
  if (all.length > show && show > 0) lines.push(`  … ${all.length - show} more`);
  return lines;
}

/**
 * Runs the command.
 *
 * @param argv Arguments after the task name.
 * @returns The exit status.
 */
export async function parityMain(argv: readonly string[]): Promise<number> {
  let args: ParityArgs;
  try {
    args = parseParityArgs(argv);
  } catch (e) {
    console.error(`parity: ${(e as Error).message}`);
    return 1;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  let engine: Engine | null = null;
  let status = 0;
  try {
    if (!args.cpuOnly) {
      try {
        engine = await createEngine();
      } catch (e) {
        console.error(`parity: ${(e as Error).message} (use --cpu-only to replay without a GPU)`);
        return 1;
      }
    }
    for (const path of args.files) {
      try {
        const file = parseGolden(await readText(path), path);
        const report = await checkGoldenParity(file, { engine });
        for (const l of formatReport(path, report, args.show)) console.log(l);
        if (report.mismatchedLines > 0) status = 1;
        if (report.gpuError !== undefined) {
          console.error(`parity: ${path}: GPU: ${report.gpuError.split("\n")[0]}`);
          status = 1;
        }
      } catch (e) {
        console.error(`parity: ${path}: ${(e as Error).message.split("\n")[0]}`);
        status = 1;
      }
    }
  } finally {
    engine?.destroy();
  }
  return status;
}

async function readText(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "file not found"
      : e instanceof Deno.errors.IsADirectory
      ? "is a folder"
      : (e as Error).message;
    throw new Error(`Cannot read golden file: ${why}`);
  }
}

if (import.meta.main) Deno.exit(await parityMain(Deno.args));
