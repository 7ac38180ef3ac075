/**
 * Checkpoints in the safetensors format (readable by PyTorch's `safetensors.torch.load_file`):
 * an 8-byte little-endian header length, a JSON header (per tensor: dtype F32/U32/I32/U8, shape,
 * data_offsets into the data section; plus `__metadata__`, string → string), then the raw
 * little-endian data. Files are written atomically (temp file in the same folder, fsync, rename),
 * so a crash leaves the previous checkpoint intact.
 *
 * Tensors are the trainer's `stateTensors()` (which, by the Trainer contract, include the env's
 * state as `env.<name>` entries): `env.*` entries keep their name, every other entry `<name>` is
 * stored as `trainer.<name>`; the run's evaluation (its eval actor's RNG counters) under
 * `eval.<name>`. Metadata holds the effective config, the trainer's host state and the
 * evaluation's (`evalState`: the best value so far) as JSON strings. A best model
 * (`best.safetensors`) has the same format with only the policy's tensors, and `eval` metadata:
 * the metrics row's evaluation it was saved at.
 *
 * @module
 */
import type { Engine } from "../engine/device.ts";
import { readTensors } from "../engine/readback.ts";
import type { DType, Tensor } from "../engine/tensor.ts";
import type { Trainer } from "../algorithms/trainer.ts";
import type { Evaluation } from "../algorithms/evaluation.ts";
import { writeFileAtomic } from "./run_files.ts";

export { writeFileAtomic } from "./run_files.ts";

/** Format tag written into `__metadata__.format`. */
export const CHECKPOINT_FORMAT = "marl-webgpu/1";

/** Host arrays a checkpoint holds. */
export type HostArray = Float32Array | Uint32Array | Int32Array | Uint8Array;

/** One stored tensor. */
export interface StoredTensor {
  dtype: DType;
  shape: number[];
  data: HostArray;
}

/** The contents of a safetensors file. */
export interface SafetensorsData {
  tensors: Record<string, StoredTensor>;
  metadata: Record<string, string>;
}

const ST_DTYPE: Readonly<Record<DType, string>> = { f32: "F32", u32: "U32", i32: "I32", u8: "U8" };
const FROM_ST: Readonly<Record<string, DType>> = { F32: "f32", U32: "u32", I32: "i32", U8: "u8" };
const BYTES: Readonly<Record<DType, number>> = { f32: 4, u32: 4, i32: 4, u8: 1 };

/**
 * Encodes tensors and metadata as safetensors bytes (tensors in name order, header padded with
 * spaces to a multiple of 8 bytes).
 *
 * @param data Tensors and string metadata.
 * @returns The file contents.
 */
export function encodeSafetensors(data: SafetensorsData): Uint8Array {
  const names = Object.keys(data.tensors).sort();
  const header: Record<string, unknown> = { __metadata__: data.metadata };
  let off = 0;
  for (const name of names) {
    const t = data.tensors[name];
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) {
      throw new TypeError(
        `Cannot encode tensor "${name}": shape [${t.shape}] has ${n} elements, data has ${t.data.length}`,
      );
    }
    const bytes = n * BYTES[t.dtype];
    header[name] = { dtype: ST_DTYPE[t.dtype], shape: t.shape, data_offsets: [off, off + bytes] };
    off += bytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const name of names) {
    const d = data.tensors[name].data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), pos);
    pos += d.byteLength;
  }
  return out;
}

/**
 * Decodes safetensors bytes (F32, U32, I32 and U8 tensors).
 *
 * @param bytes The file contents.
 * @param source Name used in errors.
 * @returns Tensors (copied out, aligned) and metadata.
 */
export function decodeSafetensors(bytes: Uint8Array, source = "checkpoint"): SafetensorsData {
  const fail = (why: string) => new TypeError(`Cannot read checkpoint "${source}": ${why}`);
  if (bytes.length < 8) throw fail(`file has ${bytes.length} bytes, not a safetensors file`);
  const len = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (len > bytes.length - 8) throw fail(`header length ${len} exceeds the file size`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + len)));
  } catch {
    throw fail("header is not JSON");
  }
  const base = 8 + len;
  const out: SafetensorsData = { tensors: {}, metadata: {} };
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") {
      out.metadata = { ...(entry as Record<string, string>) };
      continue;
    }
    const e = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const dtype = FROM_ST[e.dtype];
    if (!dtype) throw fail(`tensor "${name}" has dtype ${e.dtype}, expected F32, U32, I32 or U8`);
    const [a, b] = e.data_offsets;
    const n = e.shape.reduce((x, y) => x * y, 1);
    if (b - a !== n * BYTES[dtype] || base + b > bytes.length) {
      throw fail(`tensor "${name}" has data_offsets [${a}, ${b}] that do not fit its shape`);
    }
    const raw = bytes.slice(base + a, base + b);
    const data = dtype === "f32"
      ? new Float32Array(raw.buffer)
      : dtype === "u32"
      ? new Uint32Array(raw.buffer)
      : dtype === "i32"
      ? new Int32Array(raw.buffer)
      : raw;
    out.tensors[name] = { dtype, shape: [...e.shape], data };
  }
  return out;
}

/** The part of an evaluation a checkpoint holds. */
export type EvaluationState = Pick<Evaluation, "stateTensors" | "hostState" | "restoreHostState">;

/**
 * Tensors to checkpoint, by checkpoint name: the trainer's `stateTensors()`, the env's entries
 * (`env.*`, listed by the trainer through `envStateTensors`) under their own name and every other
 * entry under `trainer.<name>`; the evaluation's under `eval.<name>`.
 *
 * @param trainer The trainer.
 * @param evaluation The run's evaluation, if any.
 * @returns Tensors by checkpoint name.
 */
export function checkpointTensors(
  trainer: Trainer,
  evaluation?: EvaluationState | null,
): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(trainer.stateTensors())) {
    out[k.startsWith("env.") ? k : `trainer.${k}`] = t;
  }
  for (const [k, t] of Object.entries(evaluation?.stateTensors() ?? {})) out[`eval.${k}`] = t;
  return out;
}

/** Options of {@linkcode saveCheckpoint}. */
export interface SaveCheckpointOptions {
  /** Destination file. */
  path: string;
  trainer: Trainer;
  /** The effective config (stored as JSON). */
  config: unknown;
  /** The run's evaluation: its tensors and best value are saved too. */
  evaluation?: EvaluationState | null;
  /**
   * Save only the policy's tensors (`trainer.policyTensors()`, all when absent), as a best model,
   * with this metrics-row evaluation as `eval` metadata.
   */
  bestModel?: { eval: unknown };
}

/**
 * Reads every state tensor (one readback) and writes the checkpoint atomically.
 *
 * @param engine Engine of the trainer.
 * @param options Destination, trainer, config, the evaluation, or a best model's evaluation.
 */
export async function saveCheckpoint(
  engine: Engine,
  options: SaveCheckpointOptions,
): Promise<void> {
  const { trainer, bestModel } = options;
  let named: Record<string, Tensor>;
  if (bestModel) {
    const all = checkpointTensors(trainer);
    const keep = new Set(Object.values(trainer.policyTensors?.() ?? trainer.stateTensors()));
    named = Object.fromEntries(Object.entries(all).filter(([, t]) => keep.has(t)));
  } else {
    named = checkpointTensors(trainer, options.evaluation);
  }
  const names = Object.keys(named);
  const arrays = names.length > 0 ? await readTensors(engine, names.map((n) => named[n])) : [];
  const tensors: Record<string, StoredTensor> = {};
  names.forEach((n, i) => {
    tensors[n] = { dtype: named[n].dtype, shape: [...named[n].shape], data: arrays[i] };
  });
  const metadata: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    config: JSON.stringify(options.config),
    hostState: JSON.stringify(trainer.hostState()),
    envSteps: String(trainer.envSteps),
  };
  if (bestModel) metadata.eval = JSON.stringify(bestModel.eval);
  else if (options.evaluation) metadata.evalState = JSON.stringify(options.evaluation.hostState());
  await writeFileAtomic(options.path, encodeSafetensors({ tensors, metadata }));
}

/** A checkpoint read from disk. */
export interface Checkpoint extends SafetensorsData {
  /** The run's effective config (from `__metadata__.config`). */
  config: unknown;
  /** The trainer's host state. */
  hostState: Record<string, number>;
}

/**
 * Reads a checkpoint file written by {@linkcode saveCheckpoint}.
 *
 * @param path File path.
 * @returns Tensors, metadata, the parsed config and host state.
 */
export async function readCheckpoint(path: string): Promise<Checkpoint> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new TypeError(`Cannot read checkpoint "${path}": file not found`);
    }
    throw e;
  }
  const data = decodeSafetensors(bytes, path);
  if (data.metadata.format !== CHECKPOINT_FORMAT) {
    throw new TypeError(
      `Cannot read checkpoint "${path}": metadata format is ${
        JSON.stringify(data.metadata.format)
      }, expected "${CHECKPOINT_FORMAT}"`,
    );
  }
  return {
    ...data,
    config: JSON.parse(data.metadata.config),
    hostState: JSON.parse(data.metadata.hostState),
  };
}

/**
 * Queues writes of a checkpoint's tensors into the trainer's (and env's, and the evaluation's)
 * state tensors and restores the host state. With `partial`, tensors whose shape differs (those
 * sized by numEnvs, when evaluating with fewer envs), missing ones (a best model holds only the
 * policy) and `env.*` tensors are skipped instead of rejected, and no host state is restored.
 * A checkpoint without evaluation state (`evalState` metadata) leaves the evaluation fresh.
 *
 * @param engine Engine of the trainer.
 * @param options The `trainer`, the `checkpoint`, `partial`, and the run's `evaluation`.
 * @returns Names of the tensors loaded and skipped.
 */
export function restoreCheckpoint(
  engine: Engine,
  options: {
    trainer: Trainer;
    checkpoint: Checkpoint;
    partial?: boolean;
    evaluation?: EvaluationState | null;
  },
): { loaded: string[]; skipped: string[] } {
  const { trainer, checkpoint } = options;
  const targets = checkpointTensors(trainer, options.evaluation);
  // A checkpoint written without an evaluation (before evaluation existed, or with it off) leaves
  // the evaluation fresh: no best value yet, its RNG counters at zero.
  if (checkpoint.metadata.evalState === undefined) {
    for (const name of Object.keys(targets)) if (name.startsWith("eval.")) delete targets[name];
  }
  const loaded: string[] = [], skipped: string[] = [];
  const problems: string[] = [];
  for (const [name, t] of Object.entries(targets)) {
    const s = checkpoint.tensors[name];
    const same = s && s.dtype === t.dtype && s.shape.join(",") === t.shape.join(",");
    if (options.partial && (!same || name.startsWith("env."))) {
      skipped.push(name);
    } else if (!s) {
      problems.push(`"${name}" is missing`);
    } else if (!same) {
      problems.push(`"${name}" is ${s.dtype} [${s.shape}], the run has ${t.dtype} [${t.shape}]`);
    }
  }
  for (const name of Object.keys(checkpoint.tensors)) {
    if (!(name in targets)) problems.push(`"${name}" is not a tensor of this run`);
  }
  if (problems.length > 0 && !options.partial) {
    throw new TypeError(`Cannot restore checkpoint: ${problems.join("; ")}`);
  }
  for (const [name, t] of Object.entries(targets)) {
    if (skipped.includes(name)) continue;
    engine.write(t, checkpoint.tensors[name].data);
    loaded.push(name);
  }
  if (!options.partial) {
    trainer.restoreHostState(checkpoint.hostState);
    const evalState = checkpoint.metadata.evalState;
    if (options.evaluation && evalState) {
      options.evaluation.restoreHostState(JSON.parse(evalState));
    }
  }
  return { loaded, skipped };
}
