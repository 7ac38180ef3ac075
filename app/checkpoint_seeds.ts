/**
 * Checkpoints of a seed-batched trainer (docs/statistics.md §8): each seed's state is cut out of
 * the batch (`Trainer.seedLayouts`, algorithms/seeds.ts) and written as that seed's own
 * checkpoint, byte for byte what a lone run of the seed writes — so a seed folder resumes,
 * evaluates and exports on its own — and a batch resumes by joining its seeds' checkpoints.
 *
 * @module
 */
import type { Engine } from "../engine/device.ts";
import { readTensors } from "../engine/readback.ts";
import type { Tensor } from "../engine/tensor.ts";
import { joinSeeds, sliceSeed } from "../algorithms/seeds.ts";
import type { Trainer } from "../algorithms/trainer.ts";
import {
  type Checkpoint,
  checkpointMetadata,
  checkpointTensors,
  type EvaluationState,
  restoreCheckpoint,
} from "./checkpoint.ts";
import { writeFileAtomic } from "./run_files.ts";
import { encodeSafetensors, type HostArray, type StoredTensor } from "./safetensors.ts";

/** One seed of a batch: where its checkpoint goes, its config and its evaluation. */
export interface SeedCheckpointTarget {
  path: string;
  /** The seed's effective config (its own `seed`). */
  config: unknown;
  evaluation?: EvaluationState | null;
}

/** The `stateTensors()` key of a checkpoint name (`env.*` keep theirs, `trainer.<key>`). */
function stateKey(name: string): string {
  return name.startsWith("env.") ? name : name.slice("trainer.".length);
}

function layoutOf(batch: Trainer, name: string) {
  const layout = batch.seedLayouts?.()[stateKey(name)];
  if (!layout) throw new TypeError(`Cannot checkpoint seeds: "${name}" has no seed layout`);
  return layout;
}

/**
 * Reads the batch's state and every seed's evaluation state (one readback) and writes each seed's
 * checkpoint atomically.
 *
 * @param engine Engine of the trainers.
 * @param o The batch, a one-seed trainer of the same config (its tensor shapes), and the seeds.
 */
export async function saveSeedCheckpoints(
  engine: Engine,
  o: { batch: Trainer; shadow: Trainer; seeds: readonly SeedCheckpointTarget[] },
): Promise<void> {
  const { batch, seeds } = o;
  const named = checkpointTensors(batch);
  const shapes = checkpointTensors(o.shadow);
  const names = Object.keys(named);
  const evalNamed = seeds.map((s) => {
    const out: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(s.evaluation?.stateTensors() ?? {})) out[`eval.${k}`] = t;
    return out;
  });
  const all = [...names.map((n) => named[n]), ...evalNamed.flatMap((e) => Object.values(e))];
  const arrays = await readTensors(engine, all) as HostArray[];
  let at = names.length;
  for (const [k, seed] of seeds.entries()) {
    const tensors: Record<string, StoredTensor> = {};
    names.forEach((n, i) => {
      const one = shapes[n];
      const data = sliceSeed(arrays[i] as Float32Array, layoutOf(batch, n), seeds.length, k);
      tensors[n] = { dtype: one.dtype, shape: [...one.shape], data };
    });
    for (const [n, t] of Object.entries(evalNamed[k])) {
      tensors[n] = { dtype: t.dtype, shape: [...t.shape], data: arrays[at++] };
    }
    const metadata = checkpointMetadata(batch, seed.config, seed.evaluation);
    await writeFileAtomic(seed.path, encodeSafetensors({ tensors, metadata }));
  }
}

/**
 * Restores a batch from its seeds' checkpoints: each is checked against (and loaded into) the
 * one-seed trainer with the seed's evaluation, then the seeds' tensors are joined into the batch.
 *
 * @param engine Engine of the trainers.
 * @param o The batch, the one-seed trainer, and each seed's checkpoint and evaluation.
 * @throws {TypeError} When the seeds' checkpoints are at different env steps.
 */
export function restoreSeedCheckpoints(
  engine: Engine,
  o: {
    batch: Trainer;
    shadow: Trainer;
    seeds: readonly { checkpoint: Checkpoint; evaluation?: EvaluationState | null }[];
  },
): void {
  const { batch, shadow, seeds } = o;
  const steps = seeds.map((s) => s.checkpoint.metadata.envSteps);
  if (new Set(steps).size !== 1) {
    throw new TypeError(
      `Cannot resume the seeds together: their checkpoints are at different env steps (${
        steps.join(", ")
      })`,
    );
  }
  for (const s of seeds) {
    restoreCheckpoint(engine, {
      trainer: shadow,
      checkpoint: s.checkpoint,
      evaluation: s.evaluation,
    });
  }
  for (const [name, t] of Object.entries(checkpointTensors(batch))) {
    const parts = seeds.map((s) => s.checkpoint.tensors[name].data as Float32Array);
    engine.write(t, joinSeeds(parts, layoutOf(batch, name)));
  }
  batch.restoreHostState(seeds[0].checkpoint.hostState);
}
