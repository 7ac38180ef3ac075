// Helpers shared by the env tests: JSON deep equality, GPU reset / step / readback of a VecEnv,
// exact comparisons of its step outputs with a reference vec, agent-major layout helpers, biased
// random actions and the replay loop over golden files.
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import { readTensors } from "../../engine/readback.ts";
import type { HostArrays, Tensor } from "../../engine/tensor.ts";
import type { HostRng } from "../../engine/rng.ts";
import type { EnvBuffers, VecEnv } from "../../envs/env.ts";
import { goldenDir, type GoldenFile, loadGolden } from "../../envs/golden.ts";
import type { GoldenMismatch, GoldenReplayResult } from "../../envs/golden_replay.ts";
import { assertExact } from "../_testing.ts";

/** Deep equality through JSON, naming `what` (long values are cut in the message). */
export function assertEq(got: unknown, want: unknown, what: string): void {
  const g = JSON.stringify(got), w = JSON.stringify(want);
  if (g !== w) throw new Error(`${what}: got ${g.slice(0, 600)}, want ${w.slice(0, 600)}`);
}

// ---------------------------------------------------------------------------------------------
// GPU reset, step and readback.

/** The host array a tensor reads back into. */
export type HostOf<T> = T extends Tensor<infer D> ? HostArrays[D] : never;

/** Host copies of named tensors, by the same names. */
export type HostsOf<X extends Record<string, Tensor>> = { [K in keyof X]: HostOf<X[K]> };

/** Host copies of the step outputs every env writes ({@linkcode EnvBuffers} less `actions`). */
export interface StepOutputs<B extends EnvBuffers = EnvBuffers> {
  obs: HostOf<B["obs"]>;
  terminalObs: HostOf<B["terminalObs"]>;
  reward: Float32Array;
  terminated: Uint32Array;
  truncated: Uint32Array;
  episodeStep: Uint32Array;
}

const OUTPUTS = ["obs", "terminalObs", "reward", "terminated", "truncated", "episodeStep"] as const;

/** Records a reset of `env` and submits it. */
export function resetEnv(engine: Engine, env: Pick<VecEnv, "encodeReset">): void {
  const enc = engine.encoder("test.reset");
  env.encodeReset(enc);
  engine.submit(enc);
}

/**
 * Writes agent-major `actions` into `env.buffers.actions`, records one step (by `encode`, or
 * `env.encodeStep`) and submits it.
 */
export function stepEnv(
  engine: Engine,
  env: Pick<VecEnv, "buffers" | "encodeStep">,
  actions: ArrayLike<number>,
  encode: (enc: Encoder) => void = (enc) => env.encodeStep(enc),
): void {
  engine.write(env.buffers.actions, actions);
  const enc = engine.encoder("test.step");
  encode(enc);
  engine.submit(enc);
}

/** Reads the step outputs of `buffers` and the `extra` tensors (by name) in one read. */
export async function readStepOutputs<
  B extends EnvBuffers,
  X extends Record<string, Tensor> = Record<never, Tensor>,
>(engine: Engine, buffers: B, extra: X = {} as X): Promise<StepOutputs<B> & HostsOf<X>> {
  const names = [...OUTPUTS, ...Object.keys(extra)];
  const tensors = names.map((n) => n in extra ? extra[n] : buffers[n as keyof EnvBuffers]);
  const arrays = await readTensors(engine, tensors);
  return Object.fromEntries(names.map((n, i) => [n, arrays[i]])) as StepOutputs<B> & HostsOf<X>;
}

/** A GPU env with one packed u32 state that decodes into and accepts host states `S`. */
export interface StatefulEnv<S, B extends EnvBuffers = EnvBuffers> extends VecEnv {
  readonly buffers: B;
  readonly state: Tensor<"u32">;
  decodeStates(words: Uint32Array): S[];
  writeStates(states: readonly S[]): void;
}

/** Reads an env's decoded states, its step outputs and the `extra` tensors in one read. */
export async function readEnv<
  S,
  B extends EnvBuffers,
  X extends Record<string, Tensor> = Record<never, Tensor>,
>(
  engine: Engine,
  env: StatefulEnv<S, B>,
  extra: X = {} as X,
): Promise<StepOutputs<B> & HostsOf<X> & { states: S[] }> {
  const got = await readStepOutputs(engine, env.buffers, { ...extra, words: env.state });
  const { words, ...rest } = got;
  return { ...rest, states: env.decodeStates(words) } as StepOutputs<B> & HostsOf<X> & {
    states: S[];
  };
}

/**
 * Resets `env` on the GPU, then, when `states` are given, writes them into the env and `ref`
 * (the env's observations are not rewritten; the next step uses the states).
 */
export function resetWithStates<S>(
  engine: Engine,
  env: Pick<VecEnv, "encodeReset"> & { writeStates(states: readonly S[]): void },
  ref: { setStates(states: S[]): void },
  states?: S[],
): void {
  resetEnv(engine, env);
  if (states) {
    env.writeStates(states);
    ref.setStates(states);
  }
}

/** A GPU env and its reference vec over the same envs, stepped together with the same actions. */
export interface EnvPair<R, G> {
  readonly ref: R;
  step(actions: Uint32Array): void;
  read(): Promise<G>;
}

/**
 * Steps `pair` `steps` times with `actions(t)`, reads the GPU env after every step and hands it
 * to `check(got, t)`; returns how many episodes were terminated and truncated along the way.
 */
export async function rolloutPair<
  R,
  G extends { terminated: ArrayLike<number>; truncated: ArrayLike<number> },
>(
  pair: EnvPair<R, G>,
  steps: number,
  actions: (t: number) => Uint32Array,
  check: (got: G, t: number) => void,
): Promise<{ terminated: number; truncated: number }> {
  let terminated = 0, truncated = 0;
  for (let t = 0; t < steps; t++) {
    pair.step(actions(t));
    const got = await pair.read();
    check(got, t);
    terminated += sum(got.terminated);
    truncated += sum(got.truncated);
  }
  return { terminated, truncated };
}

function sum(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s;
}

// ---------------------------------------------------------------------------------------------
// Comparisons with a reference vec.

/** The flags, counters and observations a reference vec holds, in the GPU buffers' layouts. */
export interface ReferenceOutputs {
  obs: ArrayLike<number>;
  reward: ArrayLike<number>;
  terminated: ArrayLike<number>;
  truncated: ArrayLike<number>;
  episodeStep: ArrayLike<number>;
}

/** Asserts reward, terminated, truncated, episodeStep and (if `withObs`) obs are exactly `want`. */
export function assertSameOutputs(
  got: ReferenceOutputs,
  want: ReferenceOutputs,
  what: string,
  withObs = true,
): void {
  assertExact(got.reward, want.reward, `${what} reward`);
  assertExact(got.terminated, want.terminated, `${what} terminated`);
  assertExact(got.truncated, want.truncated, `${what} truncated`);
  assertExact(got.episodeStep, want.episodeStep, `${what} episodeStep`);
  if (withObs) assertExact(got.obs, want.obs, `${what} obs`);
}

/** Row `[agent, env]` of an agent-major `[numAgents, numEnvs, dim]` array. */
export function agentRow<T extends ArrayLike<number> & { subarray(a: number, b: number): T }>(
  buf: T,
  agent: number,
  env: number,
  numEnvs: number,
  dim: number,
): T {
  const at = (agent * numEnvs + env) * dim;
  return buf.subarray(at, at + dim);
}

/** The values of env `env` of an agent-major `[numAgents, numEnvs]` array, agent by agent. */
export function agentColumn(
  buf: ArrayLike<number>,
  env: number,
  numEnvs: number,
  numAgents: number,
): number[] {
  return Array.from({ length: numAgents }, (_, i) => buf[i * numEnvs + env]);
}

/** Agent-major `[numAgents, rows.length]` u32 actions from per-env rows of per-agent actions. */
export function agentMajor(rows: readonly (readonly number[])[], numAgents: number): Uint32Array {
  const n = rows.length, out = new Uint32Array(numAgents * n);
  rows.forEach((row, e) => row.forEach((a, i) => (out[i * n + e] = a)));
  return out;
}

/**
 * Asserts the terminal observations `[numAgents, numEnvs, dim]` of the envs flagged in `ended`
 * (one flag per env) are exactly `want`'s; other rows are undefined and not compared.
 */
export function assertEndedRows<
  T extends ArrayLike<number> & { subarray(a: number, b: number): T },
>(
  got: T,
  want: T,
  ended: ArrayLike<number>,
  numAgents: number,
  what: string,
): void {
  const n = ended.length, dim = got.length / (numAgents * n);
  for (let e = 0; e < n; e++) {
    if (!ended[e]) continue;
    for (let a = 0; a < numAgents; a++) {
      assertExact(
        agentRow(got, a, e, n, dim),
        agentRow(want, a, e, n, dim),
        `${what} terminalObs env ${e} agent ${a}`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Random actions and golden files.

/**
 * `n` actions: `favoured` with probability `p`, else uniform in [0, numActions). Draws one unit
 * per action, and one more below `numActions` where the favoured action was not taken.
 */
export function biasedActions(
  rng: HostRng,
  n: number,
  options: { numActions: number; favoured: number; p: number },
): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = rng.unit() < options.p ? options.favoured : rng.below(options.numActions);
  }
  return out;
}

/**
 * True when the golden tests read the fixture set shipped in `tests/fixtures/golden/` (GOLDEN_DIR
 * unset, or pointing there). Their coverage thresholds describe that set, not whatever folder
 * GOLDEN_DIR names.
 */
export const GOLDEN_FIXTURE_SET: boolean =
  goldenDir().href === new URL("../fixtures/golden/", import.meta.url).href;

/**
 * A coverage threshold of the golden tests: throws `message` when `enough` is false and the files
 * are the fixture set ({@linkcode GOLDEN_FIXTURE_SET}); elsewhere it only logs the message.
 */
export function assertGoldenCoverage(enough: boolean, message: string): void {
  if (enough) return;
  if (GOLDEN_FIXTURE_SET) throw new Error(message);
  console.log(`(GOLDEN_DIR is not the fixture set, threshold not applied: ${message})`);
}

/** Throws when a golden replay found mismatches, listing the first three. */
export function assertNoMismatch(result: GoldenReplayResult, what: string): void {
  const m = result.mismatches;
  if (m.length === 0) return;
  const line = (x: GoldenMismatch) =>
    `${x.side} line ${x.line} (${x.where}) ${x.field}: got ${
      JSON.stringify(x.got).slice(0, 300)
    }, want ${JSON.stringify(x.want).slice(0, 300)}`;
  throw new Error(`${what}: ${m.length} mismatches\n  ${m.slice(0, 3).map(line).join("\n  ")}`);
}

/**
 * Replays every golden file of `paths` with a family's CPU replay (product code,
 * `envs/<family>/golden_replay.ts`) and asserts that nothing mismatches; returns the step count,
 * the summed stats and a summary (one indented line per file).
 */
export async function replayGoldenCpu(
  paths: readonly string[],
  replay: (file: GoldenFile) => GoldenReplayResult,
): Promise<{ steps: number; stats: Record<string, number>; summary: string }> {
  const stats: Record<string, number> = {};
  const { steps, summary } = await replayGoldenFiles(paths, (path, file) => {
    const r = replay(file);
    assertNoMismatch(r, path);
    for (const [k, v] of Object.entries(r.stats)) stats[k] = (stats[k] ?? 0) + v;
  });
  return { steps, stats, summary };
}

/**
 * Loads every golden file of `paths` in order and hands it to `replay`; returns the number of
 * step lines and a summary (one indented line per file with its step and reset counts).
 */
export async function replayGoldenFiles<S>(
  paths: readonly string[],
  replay: (path: string, file: GoldenFile<S>) => void,
): Promise<{ steps: number; summary: string }> {
  const counts: string[] = [];
  let steps = 0;
  for (const path of paths) {
    const file = await loadGolden<S>(path);
    replay(path, file);
    counts.push(`${path}: ${file.steps.length} steps, ${file.resets.length} resets`);
    steps += file.steps.length;
  }
  return { steps, summary: `\n  ${counts.join("\n  ")}` };
}
