/**
 * Replay buffer layout and memory plan, computed without a GPU: which buffers a configuration
 * allocates, their sizes, and how rings are split into chunks so that no binding exceeds
 * `maxStorageBufferBindingSize` (128 MiB on llvmpipe and in WebGPU's defaults).
 *
 * @module
 */
import { PORTABLE_STORAGE_BINDING_BYTES } from "../limits.ts";

/** Configuration of a replay buffer (see engine/replay/buffer.ts for the design). */
export interface ReplayConfig {
  numAgents: number;
  /** Env copies stepped together; each insert adds numEnvs rows per agent. */
  numEnvs: number;
  /**
   * Seeds batched in the env buffers (algorithms/seeds.ts; default 1): the env arrays hold
   * `[numAgents, seeds·numEnvs, …]` and ring `b·seeds + k` is seed k's ring b (its agent b, or
   * its shared ring b = 0), filled from seed k's envs `[k·numEnvs, (k+1)·numEnvs)`.
   */
  seeds?: number;
  /** Slots per ring [transitions]. */
  capacity: number;
  /** Elements per observation (e.g. 7·7·3 = 147). */
  obsDim: number;
  /** The env's observation element type: u8 (stored packed 4 per word) or f32. */
  obsDType: "u8" | "f32";
  /** One ring for all agents' rows (parameter sharing, "IDQN same RB"). Default false. */
  shared?: boolean;
  /** Keep PER sum/min trees. Default false. */
  prioritized?: boolean;
  /** Allocate staging for cross-agent insertion (SUPER, share-all). Default false. */
  crossInsert?: boolean;
  /**
   * Inserts per relay (SUPER's rollout fragment F, e.g. 4 in Pursuit): a cross-agent insertion
   * selects among the rows completed by the last F inserts. Default 1.
   */
  relayFragment?: number;
  /** Largest binding allowed [bytes]. Default `PORTABLE_STORAGE_BINDING_BYTES` (128 MiB). */
  maxBindingBytes?: number;
  /** Rows gathered per ring per minibatch, for the report only. Default 0. */
  batch?: number;
}

/** One buffer of the plan. */
export interface ReplayBufferPlan {
  label: string;
  shape: number[];
  bytes: number;
}

/** Sizes and chunking of a configuration. */
export interface ReplayLayout {
  numRings: number;
  /** Rows one insert adds to each ring (numEnvs, or numAgents·numEnvs when shared). */
  rowsPerInsert: number;
  /** Largest number of rows one cross-agent insertion adds to a ring. */
  maxIncoming: number;
  /** Inserts per relay (F); a relay selects among F·numEnvs rows per agent. */
  relayFragment: number;
  /** u32 words per stored observation. */
  words: number;
  /** Leaves per PER tree (capacity rounded up to a power of two), 0 without PER. */
  leafCount: number;
  ringsPerChunk: number;
  /** Ring ranges [first, count) of each chunk (one obs and one next-obs buffer each). */
  chunks: { ringBase: number; ringCount: number }[];
  buffers: ReplayBufferPlan[];
  totalBytes: number;
  largestBindingBytes: number;
}

/** Fields of the `[numRings, 8]` u32 counters buffer. */
export const COUNTER = Object.freeze({
  stride: 8,
  ptr: 0,
  fill: 1,
  pendingStart: 2,
  pendingCount: 3,
  completedStart: 4,
  completedCount: 5,
  inserts: 6,
});

/**
 * Plans a replay configuration: buffer sizes, total and chunking (callable without a GPU).
 *
 * @param config The replay configuration.
 * @returns The layout; throws RangeError when the configuration cannot fit.
 */
export function memoryReport(config: ReplayConfig): ReplayLayout {
  const { numAgents, numEnvs, capacity, obsDim } = config;
  for (const [k, v] of Object.entries({ numAgents, numEnvs, capacity, obsDim })) {
    if (!(Number.isInteger(v) && v >= 1)) {
      throw new RangeError(`Cannot plan replay: ${k} is ${v}, must be an integer >= 1`);
    }
  }
  if (config.shared && config.crossInsert) {
    throw new TypeError(
      "Cannot plan replay: cross-agent insertion needs per-agent rings, shared is true",
    );
  }
  const seeds = config.seeds ?? 1;
  if (!(Number.isInteger(seeds) && seeds >= 1)) {
    throw new RangeError(`Cannot plan replay: seeds is ${seeds}, must be an integer >= 1`);
  }
  const numRings = (config.shared ? 1 : numAgents) * seeds;
  const rowsPerInsert = config.shared ? numAgents * numEnvs : numEnvs;
  const relayFragment = config.relayFragment ?? 1;
  if (!(Number.isInteger(relayFragment) && relayFragment >= 1)) {
    throw new RangeError(
      `Cannot plan replay: relayFragment is ${relayFragment}, must be an integer >= 1`,
    );
  }
  const relayRows = relayFragment * numEnvs;
  const maxIncoming = config.crossInsert ? (numAgents - 1) * relayRows : 0;
  if (capacity < 2 * rowsPerInsert + maxIncoming) {
    throw new RangeError(
      `Cannot plan replay: capacity ${capacity} is below 2·${rowsPerInsert} rows per insert + ${maxIncoming} relayed rows`,
    );
  }
  const words = config.obsDType === "u8" ? Math.ceil(obsDim / 4) : obsDim;
  let leafCount = 0;
  if (config.prioritized) { for (leafCount = 2; leafCount < capacity; leafCount *= 2); }
  const maxBinding = config.maxBindingBytes ?? PORTABLE_STORAGE_BINDING_BYTES;
  const ringBytes = capacity * words * 4;
  if (ringBytes > maxBinding) {
    throw new RangeError(
      `Cannot plan replay: one ring's observations need ${ringBytes} bytes, a binding allows ${maxBinding}`,
    );
  }
  const ringsPerChunk = Math.min(numRings, Math.floor(maxBinding / ringBytes));
  const chunks: { ringBase: number; ringCount: number }[] = [];
  for (let r = 0; r < numRings; r += ringsPerChunk) {
    chunks.push({ ringBase: r, ringCount: Math.min(ringsPerChunk, numRings - r) });
  }
  const buffers: ReplayBufferPlan[] = [];
  const add = (label: string, shape: number[]) =>
    buffers.push({ label, shape, bytes: Math.max(4, shape.reduce((a, b) => a * b, 4)) });
  chunks.forEach((c, i) => {
    add(`obs.${i}`, [c.ringCount, capacity, words]);
    add(`nextObs.${i}`, [c.ringCount, capacity, words]);
  });
  add("meta", [numRings, capacity, 4]);
  add("counters", [numRings, COUNTER.stride]);
  add("history", [numRings, relayFragment]);
  if (leafCount) {
    add("tree.sum", [numRings, 2 * leafCount]);
    add("tree.min", [numRings, 2 * leafCount]);
    add("changed", [numRings, 2 * rowsPerInsert]);
  }
  if (maxIncoming) {
    add("stage", [numRings, relayRows, 2 * words + 4]);
    if (leafCount) add("cross.changed", [numRings, maxIncoming]);
  }
  const batch = config.batch ?? 0;
  if (batch) {
    const rows = numRings * batch;
    add("batch.obs", [rows, obsDim]);
    add("batch.nextObs", [rows, obsDim]);
    add("batch.action", [rows]);
    add("batch.reward", [rows]);
    add("batch.done", [rows]);
  }
  return {
    numRings,
    rowsPerInsert,
    maxIncoming,
    relayFragment,
    words,
    leafCount,
    ringsPerChunk,
    chunks,
    buffers,
    totalBytes: buffers.reduce((s, b) => s + b.bytes, 0),
    largestBindingBytes: Math.max(...buffers.map((b) => b.bytes)),
  };
}
