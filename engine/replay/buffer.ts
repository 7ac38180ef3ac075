/**
 * Replay ring buffers on the GPU: per-agent rings (or one shared ring) of transitions, filled
 * from vectorised env steps, relayed between agents (SUPER / share-all), gathered into f32
 * minibatches, optionally with PER sum/min trees. Every operation is bound once and then only
 * encoded; ring pointers and fills live in a GPU counters buffer the host never reads.
 *
 * Design
 * - Structure of arrays per slot: obs (the env's element type: u8 packed 4 per u32 word, or f32
 *   bits), meta = (action u32, reward f32 bits, done u32, next), and an explicit next-obs array.
 * - Next observations are derived where possible: a row stores o_t; its next observation
 *   o_{t+1} is the obs of the slot the same (agent, env) wrote at the following insert, so
 *   `next` holds that slot. Only where that is impossible — the episode ended (auto-reset
 *   replaced the obs; the env's `terminalObs` is copied) and relayed rows (the sender's next
 *   obs is not in the receiver's ring) — is the next obs written to `nextObs` at the row's own
 *   slot and `next` = NEXT_EXPLICIT. A derived link always points to a newer slot, so FIFO
 *   overwrite removes the row before the slot it links to. `nextObs` is allocated for every slot
 *   (same index as the row, so its lifetime is the row's and no allocator or staleness check is
 *   needed); it costs memory — 2× the observations — but no bandwidth where unused. Pursuit with
 *   PER stays at about 302 MiB in all (`memoryReport`).
 * - Two-phase insert: `insert` (after each env step, and once after reset) writes the current env
 *   obs as new *pending* rows and completes the previous pending rows with the step's actions,
 *   rewards, done flags and next link. Pending rows (the newest `rowsPerInsert` own rows) are not
 *   sampleable: their PER leaves are 0 and the uniform sampler skips the window
 *   (pendingStart, pendingCount) of the counters (see {@linkcode Replay.fillLayout}).
 * - Cross-agent insertion appends, for each receiver, the concatenation (agent order, itself
 *   skipped) of every other agent's selected rows among those completed by the last F =
 *   `relayFragment` inserts (row j = step·numEnvs + env; a small per-ring history keeps the first
 *   completed slot of each of those inserts), with an arrival priority. The rows are first staged
 *   into a small buffer (so a ring is never bound read-only and writable at once), then appended;
 *   counts stay on the GPU. Relayed rows carry their next obs explicitly.
 * - PER: inserts set leaves (arrival^α for completed and relayed rows, 0 for pending ones) and
 *   path-update the tree; `tree.bindPriorityUpdate` writes (|δ| + ε)^α after a learning step.
 *   Encode a priority update before the next insert, so it never revives a slot that an insert
 *   has since reused as a pending row.
 * - Chunks: rings are grouped so each obs / next-obs binding stays within
 *   `maxStorageBufferBindingSize`; kernels that write obs run once per chunk (`ringBase` param).
 *   Pursuit (8 × 120 000 × 147 u8) needs 17.8 MB per ring, 7 rings per 128 MiB chunk → 2 chunks.
 * - Portable limit: no kernel binds more than 8 storage buffers (the WebGPU minimum), so inserts,
 *   appends and gathers handle a slot in two dispatches: obs words (per chunk), then meta and PER
 *   leaves (all rings at once); the insert's changed-slot list is written by its obs pass; a
 *   relay stages obs, next obs and meta of each row in one record of one buffer.
 * - Seeds (`seeds` > 1, algorithms/seeds.ts): ring `b·seeds + k` is seed k's ring b, filled from
 *   seed k's envs of the batched env buffers `[numAgents, seeds·numEnvs, …]`; a relay stays within
 *   a seed. Every per-ring tensor is `[blocks, seeds, …]` (seed-minor), so a seed's slice is the
 *   replay a one-seed run holds. One obs chunk only (a seed's rings cannot be split over chunks).
 *
 * @module
 */
import type { Engine } from "../device.ts";
import type { Encoder } from "../encoder.ts";
import { compileKernel, type Dispatch } from "../kernel.ts";
import {
  type REPLAY_PARAMS as PARAMS,
  replayCrossAdvance,
  replayCrossAppendMeta,
  replayCrossAppendObs,
  replayCrossStage,
  replayGather,
  replayGatherMeta,
  replayInsertAdvance,
  replayInsertMeta,
  replayInsertObs,
  type ReplayParams,
} from "./kernels.ts";
import { createSumTree, type Encodable, type FillLayout, type SumTree } from "./sampling.ts";
import { COUNTER, memoryReport, type ReplayConfig, type ReplayLayout } from "./memory.ts";
import { assertShape, type Tensor } from "../tensor.ts";

export { COUNTER, memoryReport };
export type { ReplayConfig, ReplayLayout };

/** Env buffers one insert reads. */
export interface InsertSources {
  /** [numAgents, numEnvs, obsDim] in the config's obsDType: obs after the step (post reset). */
  obs: Tensor;
  /** Same shape: final obs of episodes that ended (terminated or truncated) at this step. */
  terminalObs: Tensor;
  /** [numAgents, numEnvs] u32 actions of the step. */
  actions: Tensor<"u32">;
  /** [numAgents, numEnvs] f32 rewards of the step. */
  rewards: Tensor<"f32">;
  /** [numEnvs] u32 (0/1): the episode ended by the rules. */
  terminated: Tensor<"u32">;
  /** [numEnvs] u32 (0/1): the episode ended by the time limit. */
  truncated: Tensor<"u32">;
}

/** Options of {@linkcode Replay.bindInsert}. */
export interface InsertOptions {
  /** Priority of completed rows, before the exponent. Default 1. */
  arrivalPriority?: number;
  /** PER exponent α applied to the arrival priority. Default 1. */
  alpha?: number;
  /** Store done = 1 for truncated episodes (no bootstrapping). Default true. */
  truncationIsTerminal?: boolean;
}

/** A minibatch gathered from sampled slots. */
export interface ReplayBatch extends Encodable {
  /** [numRings, batch, obsDim] f32. */
  readonly obs: Tensor<"f32">;
  readonly nextObs: Tensor<"f32">;
  /** [numRings, batch] u32. */
  readonly action: Tensor<"u32">;
  /** [numRings, batch] f32. */
  readonly reward: Tensor<"f32">;
  /** [numRings, batch] f32 (0 or 1). */
  readonly done: Tensor<"f32">;
}

/** A replay buffer bound on the GPU. */
export interface Replay {
  readonly config: Readonly<ReplayConfig>;
  readonly layout: ReplayLayout;
  /** [numRings, 8] u32, fields {@linkcode COUNTER}. */
  readonly counters: Tensor<"u32">;
  /** [numRings, capacity, 4] u32: action, reward bits, done, next. */
  readonly meta: Tensor<"u32">;
  /** Stored observation words per chunk [ringCount, capacity, words]. */
  readonly obs: readonly Tensor<"u32">[];
  readonly nextObs: readonly Tensor<"u32">[];
  /** PER trees (when `prioritized`). */
  readonly tree: SumTree | null;
  /** Where a uniform sampler finds fill and the pending window. */
  readonly fillLayout: FillLayout;
  /**
   * Binds one insert (encode it once after the env reset, then after every env step): the env's
   * current obs become new pending rows; the previous pending rows are completed with the step's
   * actions, rewards and end flags. Arrival priority p enters PER as p^alpha (default 1, the
   * RLlib Pursuit quirk, docs/algorithms/idqn.md §5.2). `truncationIsTerminal` (default true, RLlib) stores
   * done = 1 on truncation too; false stores done = terminated only (bootstrap on truncation).
   */
  bindInsert(src: InsertSources, options?: InsertOptions): Promise<Encodable>;
  /**
   * Binds a cross-agent insertion from the compaction format: `indices [numRings, F·numEnvs]`
   * u32 (selected rows j = step·numEnvs + env among those completed by the last F =
   * `relayFragment` inserts, compacted) and `counts [numRings]` u32 (numRings = numAgents with one seed; a ring receives from its seed's
   * other rings). Encode it only after at
   * least F + 1 inserts (the first insert completes nothing).
   */
  bindCrossInsert(
    sel: { indices: Tensor<"u32">; counts: Tensor<"u32"> },
    options?: { arrivalPriority?: number; alpha?: number },
  ): Promise<Encodable>;
  /** Binds a gather of `indices [numRings, batch]` slots into a {@linkcode ReplayBatch}. */
  bindGather(indices: Tensor<"u32">, batch: number, label?: string): ReplayBatch;
}

function arrivalLeaf(label: string, o?: { arrivalPriority?: number; alpha?: number }): number {
  const p = o?.arrivalPriority ?? 1, alpha = o?.alpha ?? 1;
  if (!(p > 0)) throw new RangeError(`Cannot bind "${label}": arrival priority ${p} must be > 0`);
  return Math.pow(p, alpha);
}

/**
 * Allocates a replay buffer and compiles its kernels.
 *
 * @param engine Engine that owns the device.
 * @param config Sizes, element type and modes ({@linkcode ReplayConfig}); `label` prefixes buffers.
 * @returns A {@linkcode Replay} whose bind* methods build encodable operations once.
 *
 * @example A replay ring per agent on the GPU, and a uniform minibatch drawn from it
 * ```ts
 * import { createEngine, createReplay, createUniformSampler } from "../../mod.ts";
 *
 * const engine = await createEngine();
 * const replay = await createReplay(engine, {
 *   numAgents: 2,
 *   numEnvs: 4,
 *   capacity: 64,
 *   obsDim: 6,
 *   obsDType: "f32",
 *   label: "example.replay",
 * });
 * const sampler = await createUniformSampler(engine, {
 *   ...replay.fillLayout,
 *   numRings: 2,
 *   batch: 8,
 *   seed: 1,
 *   label: "example.sample",
 * });
 * const batch = replay.bindGather(sampler.indices, 8);
 * const enc = engine.encoder("example");
 * sampler.sample(enc); // 8 slot indices per ring among the filled ones
 * batch.encode(enc); // gathers obs, actions, rewards, … of those slots
 * engine.submit(enc);
 * engine.destroy();
 * ```
 */
export async function createReplay(
  engine: Engine,
  config: ReplayConfig & { label: string },
): Promise<Replay> {
  const label = config.label;
  const layout = memoryReport({
    ...config,
    maxBindingBytes: config.maxBindingBytes ?? engine.limit("maxStorageBufferBindingSize"),
  });
  const { numRings, rowsPerInsert, maxIncoming, relayFragment, words, leafCount } = layout;
  const seeds = config.seeds ?? 1;
  if (seeds > 1 && layout.chunks.length > 1) {
    throw new RangeError(
      `Cannot build "${label}": ${seeds} seeds of ${
        numRings / seeds
      } rings need ${layout.chunks.length} obs chunks, seed batching needs one (${layout.largestBindingBytes} bytes per binding); run fewer seeds per batch`,
    );
  }
  const relayRows = relayFragment * config.numEnvs;
  const { numAgents, numEnvs, capacity, obsDim } = config;
  const obs = layout.chunks.map((c, i) =>
    engine.tensor({
      dtype: "u32",
      shape: [c.ringCount, capacity, words],
      label: `${label}.obs.${i}`,
    })
  );
  const nextObs = layout.chunks.map((c, i) =>
    engine.tensor({
      dtype: "u32",
      shape: [c.ringCount, capacity, words],
      label: `${label}.nextObs.${i}`,
    })
  );
  const meta = engine.tensor({
    dtype: "u32",
    shape: [numRings, capacity, 4],
    label: `${label}.meta`,
  });
  const history = engine.tensor({
    dtype: "u32",
    shape: [numRings, relayFragment],
    label: `${label}.history`,
  });
  const counters = engine.tensor({
    dtype: "u32",
    shape: [numRings, COUNTER.stride],
    label: `${label}.counters`,
  });
  const tree = leafCount
    ? createSumTree(engine, { numRings, capacity, label: `${label}.tree` })
    : null;
  const noSum = engine.tensor({ dtype: "f32", shape: [1], label: `${label}.none.sum` });
  const noMin = engine.tensor({ dtype: "f32", shape: [1], label: `${label}.none.min` });
  const dummyU = engine.tensor({ dtype: "u32", shape: [1], label: `${label}.none.u32` });
  const leaves = { sum: tree?.sum ?? noSum, minTree: tree?.minTree ?? noMin };
  const constants = { OBS_U8: config.obsDType === "u8" ? 1 : 0 };
  const base: ReplayParams = {
    numRings,
    rows: rowsPerInsert,
    numEnvs,
    numAgents,
    capacity,
    words,
    obsDim,
    ringBase: 0,
    ringCount: numRings,
    leafCount,
    arrival: 1,
    batch: 0,
    sharedRing: config.shared ? 1 : 0,
    maxIncoming,
    truncationDone: 1,
    fragment: relayFragment,
    seeds,
  };
  // Pipelines are compiled once here; bind* only creates bind groups and buffers.
  const [kInsObs, kInsMeta, kInsAdv, kGather, kGatherMeta] = await Promise.all([
    compileKernel(engine, replayInsertObs, constants),
    compileKernel(engine, replayInsertMeta, constants),
    compileKernel(engine, replayInsertAdvance, constants),
    compileKernel(engine, replayGather, constants),
    compileKernel(engine, replayGatherMeta, constants),
  ]);
  const [kStage, kAppendObs, kAppendMeta, kCrossAdv] = maxIncoming
    ? await Promise.all([
      compileKernel(engine, replayCrossStage, constants),
      compileKernel(engine, replayCrossAppendObs, constants),
      compileKernel(engine, replayCrossAppendMeta, constants),
      compileKernel(engine, replayCrossAdvance, constants),
    ])
    : [null, null, null, null];
  const all = (ds: Dispatch<typeof PARAMS>[]): Encodable => ({
    encode: (enc: Encoder) => ds.forEach((d) => d.encode(enc)),
  });

  return {
    config: Object.freeze({ ...config }),
    layout,
    counters,
    meta,
    obs,
    nextObs,
    tree,
    fillLayout: {
      counters,
      stride: COUNTER.stride,
      fillField: COUNTER.fill,
      windowField: COUNTER.pendingStart,
    },

    async bindInsert(src, options) {
      const l = `${label}.insert`;
      const envShape = [numAgents, seeds * numEnvs];
      assertShape(src.obs, [...envShape, obsDim], { op: l, name: "obs", verb: "bind" });
      assertShape(src.terminalObs, [...envShape, obsDim], {
        op: l,
        name: "terminalObs",
        verb: "bind",
      });
      assertShape(src.actions, envShape, { op: l, name: "actions", verb: "bind" });
      assertShape(src.rewards, envShape, { op: l, name: "rewards", verb: "bind" });
      assertShape(src.terminated, [seeds * numEnvs], { op: l, name: "terminated", verb: "bind" });
      assertShape(src.truncated, [seeds * numEnvs], { op: l, name: "truncated", verb: "bind" });
      for (const t of [src.obs, src.terminalObs]) {
        if (t.dtype !== config.obsDType) {
          throw new TypeError(
            `Cannot bind "${l}": "${t.label}" is ${t.dtype}, config says ${config.obsDType}`,
          );
        }
      }
      const p = {
        ...base,
        arrival: arrivalLeaf(l, options),
        truncationDone: options?.truncationIsTerminal === false ? 0 : 1,
      };
      const changed = tree
        ? engine.tensor({
          dtype: "u32",
          shape: [numRings, 2 * rowsPerInsert],
          label: `${l}.changed`,
        })
        : dummyU;
      // Bound by both insert kernels.
      const both = {
        countersIn: counters,
        envTerminated: src.terminated,
        envTruncated: src.truncated,
      };
      const ds = layout.chunks.map((c, i) =>
        kInsObs.bind(
          {
            ...both,
            obs: obs[i],
            nextObs: nextObs[i],
            envObs: src.obs,
            envTerminal: src.terminalObs,
            changed,
          },
          { ...p, ...c },
          `${l}.obs.${i}`,
        )
      );
      ds.push(kInsMeta.bind(
        {
          ...both,
          slotMeta: meta,
          envAction: src.actions,
          envReward: src.rewards,
          ...leaves,
        },
        p,
        `${l}.meta`,
      ));
      ds.push(kInsAdv.bind({ counters, history }, p, `${l}.advance`));
      const path = tree ? await tree.bindPathUpdate(changed, 2 * rowsPerInsert, `${l}.path`) : null;
      return {
        encode(enc) {
          all(ds).encode(enc);
          path?.encode(enc);
        },
      };
    },

    async bindCrossInsert(sel, options) {
      const l = `${label}.cross`;
      if (!maxIncoming) {
        throw new TypeError(`Cannot bind "${l}": the replay was built without crossInsert`);
      }
      assertShape(sel.indices, [numRings, relayRows], { op: l, name: "indices", verb: "bind" });
      assertShape(sel.counts, [numRings], { op: l, name: "counts", verb: "bind" });
      const p = { ...base, arrival: arrivalLeaf(l, options) };
      // One record per staged row: obs words, next obs words, meta (4).
      const stage = engine.tensor({
        dtype: "u32",
        shape: [numRings, relayRows, 2 * words + 4],
        label: `${l}.stage`,
      });
      const changed = tree
        ? engine.tensor({ dtype: "u32", shape: [numRings, maxIncoming], label: `${l}.changed` })
        : dummyU;
      const ds: Dispatch<typeof PARAMS>[] = [];
      layout.chunks.forEach((c, i) =>
        ds.push(kStage!.bind(
          {
            obsIn: obs[i],
            nextIn: nextObs[i],
            slotMetaIn: meta,
            countersIn: counters,
            historyIn: history,
            sel: sel.indices,
            selCount: sel.counts,
            stage,
          },
          { ...p, ...c },
          `${l}.stage.${i}`,
        ))
      );
      layout.chunks.forEach((c, i) =>
        ds.push(kAppendObs!.bind(
          {
            obs: obs[i],
            nextObs: nextObs[i],
            countersIn: counters,
            selCount: sel.counts,
            stageIn: stage,
          },
          { ...p, ...c },
          `${l}.append.${i}`,
        ))
      );
      ds.push(kAppendMeta!.bind(
        {
          slotMeta: meta,
          countersIn: counters,
          selCount: sel.counts,
          stageIn: stage,
          ...leaves,
          changed,
        },
        p,
        `${l}.append.meta`,
      ));
      ds.push(kCrossAdv!.bind({ counters, selCount: sel.counts }, p, `${l}.advance`));
      const path = tree ? await tree.bindPathUpdate(changed, maxIncoming, `${l}.path`) : null;
      return {
        encode(enc) {
          all(ds).encode(enc);
          path?.encode(enc);
        },
      };
    },

    bindGather(indices, batch, l = `${label}.batch`) {
      assertShape(indices, [numRings, batch], { op: l, name: "indices", verb: "bind" });
      const shape = [numRings, batch];
      const out = {
        obs: engine.tensor({ dtype: "f32", shape: [...shape, obsDim], label: `${l}.obs` }),
        nextObs: engine.tensor({ dtype: "f32", shape: [...shape, obsDim], label: `${l}.nextObs` }),
        action: engine.tensor({ dtype: "u32", shape, label: `${l}.action` }),
        reward: engine.tensor({ dtype: "f32", shape, label: `${l}.reward` }),
        done: engine.tensor({ dtype: "f32", shape, label: `${l}.done` }),
      };
      const ds = layout.chunks.map((c, i) =>
        kGather.bind(
          {
            obsIn: obs[i],
            nextIn: nextObs[i],
            slotMetaIn: meta,
            indices,
            outObs: out.obs,
            outNext: out.nextObs,
          },
          { ...base, ...c, batch },
          `${l}.gather.${i}`,
        )
      );
      ds.push(kGatherMeta.bind(
        {
          slotMetaIn: meta,
          indices,
          outAction: out.action,
          outReward: out.reward,
          outDone: out.done,
        },
        { ...base, batch },
        `${l}.gather.meta`,
      ));
      return { ...out, encode: all(ds).encode };
    },
  };
}
