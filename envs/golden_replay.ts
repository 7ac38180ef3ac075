/**
 * What every family's golden replay shares (`envs/<family>/golden_replay.ts`, driven by
 * `envs/parity.ts`): the mismatch record, {@linkcode MismatchLog} (which compares a replay's values
 * with a golden line exactly, or floats to {@linkcode GOLDEN_ATOL}, and keeps every difference
 * with its line and field), the result a replay returns, and small helpers for the agent-major
 * GPU layouts and for the header's config.
 *
 * ```ts ignore
 * const log = new MismatchLog("cpu");
 * log.at(7, "episode 0 t 5");
 * log.same("state_after.players", got, want);   // exact (JSON)
 * log.close("rewards", gotRewards, line.rewards); // |got - want| <= 1e-6
 * ```
 *
 * @module
 */
import type { Engine } from "../engine/device.ts";
import type { Encoder } from "../engine/encoder.ts";
import { readTensors } from "../engine/readback.ts";
import type { Tensor } from "../engine/tensor.ts";
import type { VecEnv } from "./env.ts";
import type { GoldenFile, GoldenHeader, GoldenReset, GoldenStep } from "./golden.ts";

/** Float tolerance of the golden files (`tests/fixtures/golden/README.md`): 1e-6, absolute. */
export const GOLDEN_ATOL = 1e-6;

/** Which implementation a replay ran: the CPU reference or the GPU env. */
export type ReplaySide = "cpu" | "gpu";

/** One value of a replay that differs from the golden file. */
export interface GoldenMismatch {
  readonly side: ReplaySide;
  /** 1-based line of the file (1 = the header). */
  readonly line: number;
  /** What the line is: "header", "reset 0", "episode 0 t 17". */
  readonly where: string;
  /** The field as the file names it ("rewards", "state_after.items", "obs" …). */
  readonly field: string;
  readonly got: unknown;
  readonly want: unknown;
}

/** What a family's replay of one file on one side returns. */
export interface GoldenReplayResult {
  /** Every difference, in line order. */
  readonly mismatches: readonly GoldenMismatch[];
  /** What the file exercised, by name ("captures", "deliveries", "episode ends" …). */
  readonly stats: Readonly<Record<string, number>>;
}

/** Options of every replay. */
export interface GoldenReplayOptions {
  /** Absolute tolerance of float fields (default {@linkcode GOLDEN_ATOL}; 0 = bit for bit). */
  readonly atol?: number;
}

/** A family's replay of one golden file on the CPU reference and on the GPU env. */
export interface GoldenReplay {
  /** Our env family that replays the files (a key of `ENVS`). */
  readonly envFamily: string;
  /**
   * Replays every reset and step line on the CPU reference. Throws (TypeError / RangeError /
   * SyntaxError) when the header's config is not supported or a line lacks a recorded draw.
   */
  replayCpu(file: GoldenFile, options?: GoldenReplayOptions): GoldenReplayResult;
  /**
   * Replays every step line on the GPU env: all recorded states in one dispatch (one env each),
   * with the recorded actions and draws, then one read. Throws as `replayCpu` does, and when the
   * GPU env cannot be built for the config.
   */
  replayGpu(
    engine: Engine,
    file: GoldenFile,
    options?: GoldenReplayOptions,
  ): Promise<GoldenReplayResult>;
}

/** The line name used in mismatches: "reset 3" or "episode 3 t 17". */
export function whereOf(line: GoldenReset | GoldenStep): string {
  return line.kind === "reset" ? `reset ${line.episode}` : `episode ${line.episode} t ${line.t}`;
}

/**
 * Collects the mismatches of one side of a replay. `at` names the line that the following checks
 * belong to; every check records a {@linkcode GoldenMismatch} when the values differ and returns
 * whether they agree.
 */
export class MismatchLog {
  readonly side: ReplaySide;
  readonly atol: number;
  readonly mismatches: GoldenMismatch[] = [];
  #line = 1;
  #where = "header";

  /**
   * @param side The implementation being checked.
   * @param options `atol` of float fields (default {@linkcode GOLDEN_ATOL}).
   */
  constructor(side: ReplaySide, options: GoldenReplayOptions = {}) {
    this.side = side;
    this.atol = options.atol ?? GOLDEN_ATOL;
  }

  /** Points the following checks at file line `line` (1-based), called `where`. */
  at(line: number, where: string): void {
    this.#line = line;
    this.#where = where;
  }

  /** Records a mismatch of `field` unconditionally (for checks made elsewhere). */
  record(field: string, got: unknown, want: unknown): void {
    this.mismatches.push({
      side: this.side,
      line: this.#line,
      where: this.#where,
      field,
      got,
      want,
    });
  }

  /** Exact equality of JSON values (numbers, booleans, strings, nested arrays and objects). */
  same(field: string, got: unknown, want: unknown): boolean {
    if (JSON.stringify(plain(got)) === JSON.stringify(plain(want))) return true;
    this.record(field, plain(got), want);
    return false;
  }

  /**
   * Numbers, or equally shaped nested arrays of numbers, within `atol` (absolute); booleans
   * compare as 0/1, anything else exactly.
   */
  close(field: string, got: unknown, want: unknown): boolean {
    if (closeTo(plain(got), want, this.atol)) return true;
    this.record(field, plain(got), want);
    return false;
  }
}

/** Typed arrays as plain arrays (so that JSON compares and prints them as lists). */
function plain(v: unknown): unknown {
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    return Array.from(v as unknown as ArrayLike<number>);
  }
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

function closeTo(got: unknown, want: unknown, atol: number): boolean {
  const num = (x: unknown) => (typeof x === "boolean" ? Number(x) : x);
  const g = num(got), w = num(want);
  if (typeof g === "number" && typeof w === "number") {
    return g === w || Math.abs(g - w) <= atol;
  }
  if (Array.isArray(g) && Array.isArray(w)) {
    return g.length === w.length && g.every((x, i) => closeTo(x, w[i], atol));
  }
  return JSON.stringify(g) === JSON.stringify(w);
}

/**
 * Every reset and step line of a file with its 1-based line number, in file order.
 *
 * @param file A parsed golden file.
 * @returns `[line, lineNumber]` pairs.
 */
export function numberedLines<S>(
  file: GoldenFile<S>,
): [GoldenReset<S> | GoldenStep<S>, number][] {
  return file.lines.map((l, i) => [l, file.lineNumbers[i] ?? i + 2]);
}

/**
 * The step lines of a file with their 1-based line numbers, in file order.
 *
 * @param file A parsed golden file.
 * @returns `[step, lineNumber]` pairs.
 */
export function numberedSteps<S>(file: GoldenFile<S>): [GoldenStep<S>, number][] {
  return numberedLines(file).filter((e): e is [GoldenStep<S>, number] => e[0].kind === "step");
}

/**
 * The value of a field of a line that the replay needs (a recorded draw); throws naming the file,
 * the line and the field when it is missing.
 *
 * @param line The line.
 * @param where The field, the file (for its path) and the line's 1-based number.
 * @returns The value.
 */
export function requiredField<T>(
  line: GoldenReset | GoldenStep,
  where: { field: string; file: GoldenFile; lineNumber: number },
): T {
  const v = (line as unknown as Record<string, unknown>)[where.field];
  if (v === undefined) {
    throw new SyntaxError(
      `Cannot replay golden file "${where.file.path}": line ${where.lineNumber} (${
        whereOf(line)
      }) has no "${where.field}", the step's recorded draws`,
    );
  }
  return v as T;
}

/**
 * Throws unless the header's `config` has every key of `options.keys`, naming the missing ones.
 *
 * @param header The header.
 * @param options The keys the family's config conversion reads and the family's name.
 */
export function requireConfigKeys(
  header: GoldenHeader,
  options: { keys: readonly string[]; family: string },
): void {
  const config = header.config;
  const what = `Cannot build ${options.family} config from "${header.env}"`;
  if (typeof config !== "object" || config === null) {
    throw new TypeError(`${what}: header has no config`);
  }
  const missing = options.keys.filter((k) => !(k in config));
  if (missing.length > 0) {
    throw new TypeError(
      `${what}: header config has no ${missing.map((k) => `"${k}"`).join(", ")}`,
    );
  }
}

/** Agent-major `[numAgents, rows.length]` u32 actions from per-env rows of per-agent actions. */
export function agentMajorActions(
  rows: readonly (readonly number[])[],
  numAgents: number,
): Uint32Array {
  const n = rows.length, out = new Uint32Array(numAgents * n);
  rows.forEach((row, e) => {
    if (row.length !== numAgents) {
      throw new TypeError(
        `Cannot replay step ${e}: ${row.length} actions recorded, the env has ${numAgents} agents`,
      );
    }
    row.forEach((a, i) => (out[i * n + e] = a));
  });
  return out;
}

/** The values of env `env` of an agent-major `[numAgents, numEnvs, dim]` array, agent by agent. */
export function agentRows(
  buf: ArrayLike<number>,
  env: number,
  options: { numEnvs: number; numAgents: number; dim: number },
): number[][] {
  const { numEnvs, numAgents, dim } = options;
  return Array.from({ length: numAgents }, (_, a) => {
    const at = (a * numEnvs + env) * dim;
    return Array.from({ length: dim }, (_, q) => buf[at + q]);
  });
}

/** A GPU env with one packed u32 state that takes and gives host states `S`. */
export interface GoldenGpuEnv<S> extends VecEnv {
  readonly state: Tensor<"u32">;
  writeStates(states: readonly S[]): void;
  decodeStates(words: Uint32Array): S[];
}

/** What {@linkcode stepRecordedStates} reads back after the step (agent-major outputs). */
export interface GoldenGpuRead<S> {
  /** Decoded states after the step (the next episode's first state where one ended). */
  readonly states: S[];
  /** The raw state words. */
  readonly words: Uint32Array;
  readonly obs: ArrayLike<number>;
  readonly terminalObs: ArrayLike<number>;
  readonly reward: Float32Array;
  readonly terminated: Uint32Array;
  readonly truncated: Uint32Array;
  readonly episodeStep: Uint32Array;
  /** The `extra` tensors, by the same names. */
  readonly extra: Record<string, ArrayLike<number>>;
}

/**
 * Steps recorded states once on the GPU: resets `env` (which sets every buffer), writes one state
 * per env, writes the agent-major `actions`, records the step (`encode`, default `encodeStep`;
 * write injected draws before calling) and reads the step's outputs and the `extra` tensors in
 * one read.
 *
 * @param engine Engine that owns the env.
 * @param env The env, with `numEnvs` = `states.length`.
 * @param options States, actions `[numAgents, numEnvs]`, the step encoder and extra tensors.
 * @returns The decoded states and outputs after the step.
 */
export async function stepRecordedStates<S>(
  engine: Engine,
  env: GoldenGpuEnv<S>,
  options: {
    states: readonly S[];
    actions: Uint32Array;
    encode?: (enc: Encoder) => void;
    extra?: Record<string, Tensor>;
  },
): Promise<GoldenGpuRead<S>> {
  const reset = engine.encoder("parity.reset");
  env.encodeReset(reset);
  engine.submit(reset);
  env.writeStates(options.states);
  engine.write(env.buffers.actions, options.actions);
  const enc = engine.encoder("parity.step");
  (options.encode ?? ((e: Encoder) => env.encodeStep(e)))(enc);
  engine.submit(enc);
  const b = env.buffers;
  const extraNames = Object.keys(options.extra ?? {});
  const arrays = await readTensors(engine, [
    env.state,
    b.obs,
    b.terminalObs,
    b.reward,
    b.terminated,
    b.truncated,
    b.episodeStep,
    ...extraNames.map((n) => options.extra![n]),
  ]);
  const [words, obs, terminalObs, reward, terminated, truncated, episodeStep, ...rest] = arrays;
  return {
    states: env.decodeStates(words as Uint32Array),
    words: words as Uint32Array,
    obs,
    terminalObs,
    reward: reward as Float32Array,
    terminated: terminated as Uint32Array,
    truncated: truncated as Uint32Array,
    episodeStep: episodeStep as Uint32Array,
    extra: Object.fromEntries(extraNames.map((n, i) => [n, rest[i]])),
  };
}
