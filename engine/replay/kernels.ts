/**
 * Kernel declarations of the replay buffer (shaders/engine/replay/kernels.wgsl); built and bound by
 * engine/replay/buffer.ts. Every kernel binds at most 8 storage buffers (the WebGPU minimum of
 * `maxStorageBuffersPerShaderStage`), so writes to a slot are split into an obs kernel (run per
 * chunk) and a meta kernel (all rings), gathers likewise, and a relay stages its rows in one
 * buffer with three regions.
 *
 * @module
 */
import { defineKernel } from "../kernel.ts";

const SHADER = "engine/replay/kernels.wgsl";
const INCLUDES = ["common/_index.wgsl"] as const;
/** Params of every replay kernel (same order as `struct Params` in replay.wgsl). */
export const REPLAY_PARAMS = {
  numRings: "u32",
  rows: "u32",
  numEnvs: "u32",
  numAgents: "u32",
  capacity: "u32",
  words: "u32",
  obsDim: "u32",
  ringBase: "u32",
  ringCount: "u32",
  leafCount: "u32",
  arrival: "f32",
  batch: "u32",
  sharedRing: "u32",
  maxIncoming: "u32",
  truncationDone: "u32",
  fragment: "u32",
  seeds: "u32",
} as const;
/** Values of {@linkcode REPLAY_PARAMS}. */
export type ReplayParams = { [K in keyof typeof REPLAY_PARAMS]: number };

const kernel = <const B extends Record<string, "read" | "write">>(
  entryPoint: string,
  bindings: B,
  threads: (p: ReplayParams) => number,
) =>
  defineKernel({
    name: `replay.${entryPoint}`,
    shader: SHADER,
    entryPoint,
    includes: INCLUDES,
    bindings,
    params: REPLAY_PARAMS,
    threads,
  });

/**
 * Insert, obs part (one chunk): writes the env obs of the new pending rows and, for rows that
 * complete an ended episode, their explicit next obs; with PER also the changed slots of the
 * chunk's rings (for the path update). Meta, leaves: {@linkcode replayInsertMeta}.
 */
export const replayInsertObs = kernel("insertObs", {
  obs: "write",
  nextObs: "write",
  countersIn: "read",
  envObs: "read",
  envTerminal: "read",
  envTerminated: "read",
  envTruncated: "read",
  changed: "write",
}, (p) => p.ringCount * p.rows * p.words);

/** Insert, meta part (all rings): completes the previous pending rows and sets PER leaves. */
export const replayInsertMeta = kernel("insertMeta", {
  slotMeta: "write",
  countersIn: "read",
  envAction: "read",
  envReward: "read",
  envTerminated: "read",
  envTruncated: "read",
  sum: "write",
  minTree: "write",
}, (p) => p.ringCount * p.rows);

/** Advances pointers after an insert. */
export const replayInsertAdvance = kernel(
  "insertAdvance",
  { counters: "write", history: "write" },
  (p) => p.numRings,
);

/**
 * Copies the senders' selected rows into `stage` (one chunk of senders): obs words, next obs words
 * and meta in three regions of one buffer (layout in replay.wgsl).
 */
export const replayCrossStage = kernel("crossStage", {
  obsIn: "read",
  nextIn: "read",
  slotMetaIn: "read",
  countersIn: "read",
  historyIn: "read",
  sel: "read",
  selCount: "read",
  stage: "write",
}, (p) => p.ringCount * p.fragment * p.numEnvs * p.words);

/** Appends the other agents' staged obs and next obs to each receiver (one chunk of receivers). */
export const replayCrossAppendObs = kernel("crossAppendObs", {
  obs: "write",
  nextObs: "write",
  countersIn: "read",
  selCount: "read",
  stageIn: "read",
}, (p) => p.ringCount * p.maxIncoming * p.words);

/** Appends the staged meta of the other agents' rows to each receiver and sets their leaves. */
export const replayCrossAppendMeta = kernel("crossAppendMeta", {
  slotMeta: "write",
  countersIn: "read",
  selCount: "read",
  stageIn: "read",
  sum: "write",
  minTree: "write",
  changed: "write",
}, (p) => p.ringCount * p.maxIncoming);

/** Advances pointers after a cross-agent insertion. */
export const replayCrossAdvance = kernel(
  "crossAdvance",
  { counters: "write", selCount: "read" },
  (p) => p.numRings,
);

/** Gathers the obs and next obs of rows into f32 minibatch tensors (one chunk). */
export const replayGather = kernel("gather", {
  obsIn: "read",
  nextIn: "read",
  slotMetaIn: "read",
  indices: "read",
  outObs: "write",
  outNext: "write",
}, (p) => p.ringCount * p.batch * p.obsDim);

/** Gathers the action, reward and done of rows (all rings in one dispatch). */
export const replayGatherMeta = kernel("gatherMeta", {
  slotMetaIn: "read",
  indices: "read",
  outAction: "write",
  outReward: "write",
  outDone: "write",
}, (p) => p.numRings * p.batch);
