/**
 * Allocation of the buffers every environment exposes ({@linkcode EnvBuffers}), so that each env
 * family declares only its own state.
 *
 * @module
 */
import type { Engine } from "../engine/device.ts";
import type { Tensor } from "../engine/tensor.ts";
import type { EnvBuffers } from "./env.ts";

/** The standard buffers with the observation element type known. */
export type TypedEnvBuffers<O extends "f32" | "u8"> = EnvBuffers & {
  readonly obs: Tensor<O>;
  readonly terminalObs: Tensor<O>;
};

/**
 * Allocates obs and terminalObs `[numAgents, numEnvs, ...obsShape]` in `obsDType`, actions and
 * reward `[numAgents, numEnvs]`, and the per-env flags and step counter `[numEnvs]`, labelled
 * `<label>.<name>`.
 */
export function createEnvBuffers<O extends "f32" | "u8">(
  engine: Engine,
  options: {
    numAgents: number;
    numEnvs: number;
    obsShape: readonly number[];
    obsDType: O;
    label: string;
  },
): TypedEnvBuffers<O> {
  const { numAgents: A, numEnvs: n, obsShape, obsDType, label } = options;
  const obs = [A, n, ...obsShape];
  const t = <D extends "f32" | "u32" | "u8">(dtype: D, shape: number[], name: string) =>
    engine.tensor({ dtype, shape, label: `${label}.${name}` });
  return {
    obs: t(obsDType, obs, "obs"),
    terminalObs: t(obsDType, obs, "terminalObs"),
    actions: t("u32", [A, n], "actions"),
    reward: t("f32", [A, n], "reward"),
    terminated: t("u32", [n], "terminated"),
    truncated: t("u32", [n], "truncated"),
    episodeStep: t("u32", [n], "episodeStep"),
  };
}

/** The standard buffers a reset kernel writes. */
export type ResetBuffers = Pick<
  EnvBuffers,
  "obs" | "reward" | "terminated" | "truncated" | "episodeStep"
>;

/**
 * The standard buffers a reset writes (obs, reward, terminated, truncated, episodeStep): a reset
 * reads no actions and ends no episode, so it binds neither `actions` nor `terminalObs`.
 *
 * @param buffers The env's buffers.
 * @returns The five tensors, by binding name.
 */
export function resetBuffers(buffers: EnvBuffers): ResetBuffers {
  const { obs, reward, terminated, truncated, episodeStep } = buffers;
  return { obs, reward, terminated, truncated, episodeStep };
}

/**
 * How a reset kernel binds the standard buffers it writes (binding names are the
 * {@linkcode EnvBuffers} names, so `resetBuffers(buffers)` fills them).
 */
export const RESET_BINDINGS = {
  obs: "write",
  reward: "write",
  terminated: "write",
  truncated: "write",
  episodeStep: "write",
} as const;

/** How a step kernel binds the standard buffers: reads `actions`, writes the rest. */
export const STEP_BINDINGS = {
  actions: "read",
  obs: "write",
  terminalObs: "write",
  reward: "write",
  terminated: "write",
  truncated: "write",
  episodeStep: "write",
} as const;
