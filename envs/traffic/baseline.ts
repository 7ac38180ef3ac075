/**
 * Non-learning signal programs for the traffic grid on the GPU (spec A10, approximated as in B11):
 * the actuated controller (keep a green at least `minGreen` steps; then switch once no vehicle
 * front has been in bins 0..1 of the green approaches for `gapSteps` consecutive steps, or after
 * `maxGreen` steps of green) or a fixed-time one (switch after `fixedGreen` steps of green). Yellow
 * lasts 3 steps (the env's rule). Reads the agents' observations, writes `actions`; one dispatch.
 * {@linkcode trafficControllerReference} is its CPU reference.
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import { compileKernel, defineKernel } from "../../engine/kernel.ts";
import type { Tensor } from "../../engine/tensor.ts";
import type { VecEnv } from "../env.ts";
import { TRAFFIC_AUX_PARAMS } from "./influence.ts";

/** One step of every agent's controller; one thread per (agent, env). */
export const trafficControllerAct = defineKernel({
  name: "traffic.baseline.act",
  shader: "envs/traffic/influence.wgsl",
  entryPoint: "act",
  includes: ["common/_index.wgsl"],
  bindings: { obs: "read", episodeStep: "read", ctrl: "write", actions: "write" },
  params: TRAFFIC_AUX_PARAMS,
  threads: (p) => p.numEnvs * p.numAgents,
});

/** Controller timings [steps]; `fixedGreen > 0` selects the fixed-time program. */
export interface TrafficControllerOptions {
  minGreen: number;
  maxGreen: number;
  gapSteps: number;
  fixedGreen: number;
}

/** The actuated program of spec B11 (min 8, max 45, gap 3). */
export const TRAFFIC_ACTUATED: Readonly<TrafficControllerOptions> = Object.freeze({
  minGreen: 8,
  maxGreen: 45,
  gapSteps: 3,
  fixedGreen: 0,
});

/** SUMO's 31-s phases run as a fixed-time program (spec A10 phase durations). */
export const TRAFFIC_FIXED_TIME: Readonly<TrafficControllerOptions> = Object.freeze({
  minGreen: 0,
  maxGreen: 0,
  gapSteps: 0,
  fixedGreen: 31,
});

/** A built controller: `encode` writes the env's `actions` from its `obs`. */
export interface TrafficController {
  /** [A, numEnvs, 2] u32: green steps so far, steps without a vehicle near the green stop lines. */
  readonly ctrl: Tensor<"u32">;
  encode(enc: Encoder): void;
}

/**
 * Builds the signal controller of every agent of a traffic env (global or local simulator).
 *
 * @param engine Engine that owns the device.
 * @param env The env whose `actions` it writes.
 * @param options Timings (default {@linkcode TRAFFIC_ACTUATED}).
 * @returns The controller (label `traffic.baseline.*`).
 */
export async function createTrafficController(
  engine: Engine,
  env: VecEnv,
  options: TrafficControllerOptions = TRAFFIC_ACTUATED,
): Promise<TrafficController> {
  const n = env.numEnvs, A = env.spec.numAgents;
  const ctrl = engine.tensor({ dtype: "u32", shape: [A, n, 2], label: "traffic.baseline.ctrl" });
  const k = await compileKernel(engine, trafficControllerAct);
  const d = k.bind(
    {
      obs: env.buffers.obs,
      episodeStep: env.buffers.episodeStep,
      ctrl,
      actions: env.buffers.actions,
    },
    { numEnvs: n, numAgents: A, ...options, slots: 0, envsPerSeed: n },
  );
  return { ctrl, encode: (enc) => d.encode(enc) };
}

/**
 * CPU reference of one controller step: the action from an observation (40 values), the env's
 * episode step and the counters `[green, gap]` (updated in place).
 */
export function trafficControllerReference(
  options: TrafficControllerOptions,
  input: { obs: ArrayLike<number>; episodeStep: number; counters: number[] },
): number {
  const { obs, episodeStep, counters } = input;
  if (episodeStep === 0) counters.fill(0);
  const signal = [0, 1, 2, 3].find((i) => obs[36 + i] === 1)!;
  if (signal === 1 || signal === 2) {
    counters[0] = counters[1] = 0;
    return 0;
  }
  counters[0]++;
  const greens = signal === 3 ? [1, 3] : [0, 2]; // N–S green: S and N; E–W green: W and E
  const near = greens.some((a) => obs[a * 9] === 1 || obs[a * 9 + 1] === 1);
  counters[1] = near ? 0 : counters[1] + 1;
  const [green, gap] = counters;
  const change = options.fixedGreen > 0
    ? green >= options.fixedGreen
    : green >= options.maxGreen || (green >= options.minGreen && gap >= options.gapSteps);
  if (!change) return 0;
  counters[0] = counters[1] = 0;
  return 1;
}
