/**
 * Checkpoints as bytes, without a file system (browsers, `web.ts`): the same safetensors layout
 * and names as `app/checkpoint.ts` writes to disk (`env.*` entries under their own name, every
 * other trainer entry as `trainer.<name>`; metadata `format`, `config`, `hostState`,
 * `envSteps`), so a file downloaded from the playground loads in `deno task eval`, and a CLI run's
 * checkpoint or best model loads in the playground. A policy file holds only the tensors a policy
 * needs to act (`trainer.policyTensors()`: the weights), a few kilobytes to a few megabytes
 * instead of the replay buffers and optimiser state.
 *
 * @module
 */
import type { Engine } from "../engine/device.ts";
import { readTensors } from "../engine/readback.ts";
import type { Tensor } from "../engine/tensor.ts";
import type { Trainer } from "../algorithms/trainer.ts";
import { decodeSafetensors, encodeSafetensors, type SafetensorsData } from "./safetensors.ts";
import type { StoredTensor } from "./safetensors.ts";

/** Format tag of `__metadata__.format` (the value `app/checkpoint.ts` writes). */
export const CHECKPOINT_FORMAT = "marl-webgpu/1";

/** A decoded checkpoint. */
export interface CheckpointData extends SafetensorsData {
  /** The run's effective config (from `__metadata__.config`). */
  config: unknown;
  /** The trainer's host state (from `__metadata__.hostState`). */
  hostState: Record<string, number>;
}

/**
 * A trainer's tensors by checkpoint name: `env.*` entries as they are, the others as
 * `trainer.<name>`; with `policyOnly`, only the entries of `trainer.policyTensors()` (all when the
 * trainer does not say).
 *
 * @param trainer The trainer.
 * @param options `policyOnly`.
 * @returns Tensors by checkpoint name.
 */
export function namedCheckpointTensors(
  trainer: Trainer,
  options: { policyOnly?: boolean } = {},
): Record<string, Tensor> {
  const keep = options.policyOnly && trainer.policyTensors
    ? new Set(Object.values(trainer.policyTensors()))
    : null;
  const out: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(trainer.stateTensors())) {
    if (keep && !keep.has(t)) continue;
    out[k.startsWith("env.") ? k : `trainer.${k}`] = t;
  }
  return out;
}

/** Options of {@linkcode encodeCheckpoint}. */
export interface EncodeCheckpointOptions {
  trainer: Trainer;
  /** The effective config (stored as JSON in `__metadata__.config`). */
  config: unknown;
  /** Only the policy's tensors (a policy file, a best model). */
  policyOnly?: boolean;
  /** More tensors by checkpoint name (e.g. an evaluation's `eval.*`), read in the same readback. */
  tensors?: Record<string, Tensor>;
  /** More metadata (e.g. `evalState`, `eval`). */
  metadata?: Record<string, string>;
}

/**
 * Reads a trainer's tensors (one readback) and encodes them as a checkpoint file.
 *
 * @param engine Engine of the trainer.
 * @param options The `trainer`, the effective `config`, `policyOnly`, and extra tensors and
 *   metadata.
 * @returns The safetensors bytes.
 *
 * @example A trainer's checkpoint as bytes, and back
 * ```ts
 * import {
 *   buildTrainer,
 *   createEngine,
 *   decodeCheckpoint,
 *   encodeCheckpoint,
 *   validateConfig,
 * } from "../mod.ts";
 *
 * const config = validateConfig({
 *   env: "Foraging-5x5-2p-1f",
 *   numEnvs: 4,
 *   algo: { name: "seac", hidden: 16 },
 *   log: { interval: 100, checkpointEvery: 0 },
 * });
 * const engine = await createEngine();
 * const trainer = await buildTrainer(engine, config);
 * trainer.run(1);
 * const bytes = await encodeCheckpoint(engine, { trainer, config, policyOnly: true });
 * const back = decodeCheckpoint(bytes, "policy.safetensors");
 * console.log(Object.keys(back.tensors), back.metadata.envSteps); // ["trainer.net.params"] "20"
 * engine.destroy();
 * ```
 */
export async function encodeCheckpoint(
  engine: Engine,
  options: EncodeCheckpointOptions,
): Promise<Uint8Array> {
  const { trainer } = options;
  const named = {
    ...namedCheckpointTensors(trainer, { policyOnly: options.policyOnly }),
    ...options.tensors,
  };
  const names = Object.keys(named);
  const arrays = names.length > 0 ? await readTensors(engine, names.map((n) => named[n])) : [];
  const tensors: Record<string, StoredTensor> = {};
  names.forEach((n, i) => {
    tensors[n] = { dtype: named[n].dtype, shape: [...named[n].shape], data: arrays[i] };
  });
  return encodeSafetensors({
    tensors,
    metadata: {
      format: CHECKPOINT_FORMAT,
      config: JSON.stringify(options.config),
      hostState: JSON.stringify(trainer.hostState()),
      envSteps: String(trainer.envSteps),
      ...options.metadata,
    },
  });
}

/**
 * Decodes checkpoint bytes and checks the format tag.
 *
 * @param bytes The file contents.
 * @param source Name used in errors (a file name).
 * @returns Tensors, metadata, config and host state.
 * @throws {TypeError} When the bytes are not a marl-webgpu checkpoint.
 *
 * @example A trainer's checkpoint as bytes, and back
 * ```ts
 * import {
 *   buildTrainer,
 *   createEngine,
 *   decodeCheckpoint,
 *   encodeCheckpoint,
 *   validateConfig,
 * } from "../mod.ts";
 *
 * const config = validateConfig({
 *   env: "Foraging-5x5-2p-1f",
 *   numEnvs: 4,
 *   algo: { name: "seac", hidden: 16 },
 *   log: { interval: 100, checkpointEvery: 0 },
 * });
 * const engine = await createEngine();
 * const trainer = await buildTrainer(engine, config);
 * trainer.run(1);
 * const bytes = await encodeCheckpoint(engine, { trainer, config, policyOnly: true });
 * const back = decodeCheckpoint(bytes, "policy.safetensors");
 * console.log(Object.keys(back.tensors), back.metadata.envSteps); // ["trainer.net.params"] "20"
 * engine.destroy();
 * ```
 */
export function decodeCheckpoint(bytes: Uint8Array, source = "checkpoint"): CheckpointData {
  const data = decodeSafetensors(bytes, source);
  const fail = (why: string) => new TypeError(`Cannot read checkpoint "${source}": ${why}`);
  if (data.metadata.format !== CHECKPOINT_FORMAT) {
    throw fail(
      `metadata format is ${JSON.stringify(data.metadata.format)}, expected "${CHECKPOINT_FORMAT}"`,
    );
  }
  const parse = (key: string) => {
    try {
      return JSON.parse(data.metadata[key] ?? "");
    } catch {
      throw fail(`metadata "${key}" is not JSON`);
    }
  };
  return { ...data, config: parse("config"), hostState: parse("hostState") };
}

/**
 * Queues writes of a checkpoint's policy (the tensors of `trainer.policyTensors()`) into a trainer
 * built from the checkpoint's config, with any numEnvs. Everything else (optimiser, replay, env
 * state, host counters) stays as built: training from a loaded policy starts a fresh optimiser.
 *
 * @param engine Engine of the trainer.
 * @param options The `trainer` and the `checkpoint` (a full checkpoint or a policy file).
 * @returns Checkpoint names of the tensors loaded.
 * @throws {TypeError} When a policy tensor is missing from the file or has another shape.
 */
export function loadPolicy(
  engine: Engine,
  options: { trainer: Trainer; checkpoint: CheckpointData },
): { loaded: string[] } {
  const { trainer, checkpoint } = options;
  const policy = namedCheckpointTensors(trainer, { policyOnly: true });
  const problems: string[] = [];
  for (const [name, t] of Object.entries(policy)) {
    const s = checkpoint.tensors[name];
    if (!s) problems.push(`"${name}" is missing`);
    else if (s.dtype !== t.dtype || s.shape.join(",") !== t.shape.join(",")) {
      problems.push(`"${name}" is ${s.dtype} [${s.shape}], the policy has ${t.dtype} [${t.shape}]`);
    }
  }
  if (problems.length > 0) throw new TypeError(`Cannot load policy: ${problems.join("; ")}`);
  for (const [name, t] of Object.entries(policy)) engine.write(t, checkpoint.tensors[name].data);
  return { loaded: Object.keys(policy) };
}
