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
import type { Tensor } from "../engine/tensor.ts";
import type { Trainer } from "../algorithms/trainer.ts";
import type { Evaluation } from "../algorithms/evaluation.ts";
import { CHECKPOINT_FORMAT } from "./checkpoint_bytes.ts";
import { writeFileAtomic } from "./run_files.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  type SafetensorsData,
  type StoredTensor,
} from "./safetensors.ts";

export { writeFileAtomic } from "./run_files.ts";

export { CHECKPOINT_FORMAT } from "./checkpoint_bytes.ts";
export { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
export type { HostArray, SafetensorsData, StoredTensor } from "./safetensors.ts";

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
  const metadata = checkpointMetadata(
    trainer,
    options.config,
    bestModel ? null : options.evaluation,
  );
  if (bestModel) metadata.eval = JSON.stringify(bestModel.eval);
  await writeFileAtomic(options.path, encodeSafetensors({ tensors, metadata }));
}

/**
 * A checkpoint's `__metadata__`: format, the effective config, the trainer's host state and env
 * steps, and the evaluation's host state when there is one.
 *
 * @param trainer The trainer whose state is saved (a batch's: every seed has its host state).
 * @param config The effective config (stored as JSON).
 * @param evaluation The run's evaluation, if any.
 * @returns The metadata strings.
 */
export function checkpointMetadata(
  trainer: Trainer,
  config: unknown,
  evaluation?: EvaluationState | null,
): Record<string, string> {
  const metadata: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    config: JSON.stringify(config),
    hostState: JSON.stringify(trainer.hostState()),
    envSteps: String(trainer.envSteps),
  };
  if (evaluation) metadata.evalState = JSON.stringify(evaluation.hostState());
  return metadata;
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
