/**
 * Parity of our environments with recorded trajectories: the replay of each golden-file family
 * ({@linkcode GOLDEN_REPLAYS}, keyed by the header's `family`) and {@linkcode checkGoldenParity},
 * which replays one file on the CPU reference and on the GPU env and counts the lines where either
 * disagrees with it. `deno task parity` (app/parity.ts) is its command line; the format is
 * described in `tests/fixtures/golden/README.md`.
 *
 * ```ts ignore
 * const file = parseGolden(await Deno.readTextFile("my_rollout.jsonl"), "my_rollout.jsonl");
 * const report = await checkGoldenParity(file, { engine });
 * console.log(report.steps, report.mismatchedLines, report.cpu.mismatches[0]);
 * ```
 *
 * @module
 */
import type { Engine } from "../engine/device.ts";
import type { GoldenFile } from "./golden.ts";
import type { GoldenReplay, GoldenReplayOptions, GoldenReplayResult } from "./golden_replay.ts";
import { LBF_GOLDEN_REPLAY } from "./lbf/golden_replay.ts";
import { PURSUIT_GOLDEN_REPLAY } from "./pursuit/golden_replay.ts";
import { RWARE_GOLDEN_REPLAY } from "./rware/golden_replay.ts";
import { WAREHOUSE_GOLDEN_REPLAY } from "./warehouse/golden_replay.ts";

/** The replay of every golden-file family, by the `family` its headers name. */
export const GOLDEN_REPLAYS = {
  lbf: LBF_GOLDEN_REPLAY,
  rware: RWARE_GOLDEN_REPLAY,
  pursuit: PURSUIT_GOLDEN_REPLAY,
  "dials-warehouse": WAREHOUSE_GOLDEN_REPLAY,
} as const satisfies Record<string, GoldenReplay>;

/** The replay of a file's family; throws naming the families we replay. */
export function goldenReplayOf(file: GoldenFile): GoldenReplay {
  const family = file.header.family;
  const replay = (GOLDEN_REPLAYS as Record<string, GoldenReplay>)[family];
  if (!replay || !Object.hasOwn(GOLDEN_REPLAYS, family)) {
    throw new TypeError(
      `Cannot replay golden file "${file.path}": family ${JSON.stringify(family)} is not one of ${
        Object.keys(GOLDEN_REPLAYS).join(", ")
      }`,
    );
  }
  return replay;
}

/** What {@linkcode checkGoldenParity} found for one file. */
export interface ParityReport {
  readonly path: string;
  /** The header's family. */
  readonly family: string;
  /** Step lines replayed. */
  readonly steps: number;
  /** Reset lines checked (on the CPU). */
  readonly resets: number;
  readonly cpu: GoldenReplayResult;
  /** Null when no engine was given (CPU only) or the GPU replay failed (`gpuError`). */
  readonly gpu: GoldenReplayResult | null;
  /** Why the GPU replay could not run (e.g. a config the GPU env does not build), if it failed. */
  readonly gpuError?: string;
  /** Lines of the file (header, resets, steps) where the CPU or the GPU disagrees with it. */
  readonly mismatchedLines: number;
}

/**
 * Replays a golden file on the CPU reference and, given an engine, on the GPU env (every step
 * line in one dispatch), comparing exactly, floats to `atol`.
 *
 * @param file A parsed golden file.
 * @param options `engine` for the GPU side (none: CPU only) and the float tolerance.
 * @returns The report (a GPU replay that fails is reported in `gpuError`).
 * @throws TypeError, RangeError or SyntaxError when the family, the header's config or a line
 *   cannot be replayed on the CPU (one sentence naming the problem).
 */
export async function checkGoldenParity(
  file: GoldenFile,
  options: GoldenReplayOptions & { engine?: Engine | null } = {},
): Promise<ParityReport> {
  const replay = goldenReplayOf(file);
  const cpu = replay.replayCpu(file, options);
  let gpu: GoldenReplayResult | null = null, gpuError: string | undefined;
  if (options.engine && file.steps.length > 0) {
    try {
      gpu = await replay.replayGpu(options.engine, file, options);
    } catch (e) {
      gpuError = e instanceof Error ? e.message : String(e);
    }
  }
  const lines = new Set([...cpu.mismatches, ...(gpu?.mismatches ?? [])].map((m) => m.line));
  return {
    path: file.path,
    family: file.header.family,
    steps: file.steps.length,
    resets: file.resets.length,
    cpu: { mismatches: cpu.mismatches, stats: cpu.stats },
    gpu: gpu && { mismatches: gpu.mismatches, stats: gpu.stats },
    ...(gpuError === undefined ? {} : { gpuError }),
    mismatchedLines: lines.size,
  };
}
