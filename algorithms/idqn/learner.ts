/**
 * One DQN learning step for every learner at once (docs/algorithms/idqn.md §2), reading a {@linkcode BatchSource}:
 * Q(s) and the target network's Q(s') (plus the online Q(s') for double DQN) → TD target →
 * weighted Huber / MSE on the chosen action → backward → Adam with per-agent global-norm clipping
 * → (Polyak target update when τ < 1). Hard target copies are recorded by the trainer.
 *
 * @module
 */
import type { Engine } from "../../engine/device.ts";
import type { Encoder } from "../../engine/encoder.ts";
import { type Adam, createAdam } from "../../engine/nn/adam.ts";
import { createFill } from "../../engine/ops/elementwise.ts";
import { createQLoss, createTdTarget, type QLoss } from "../../engine/ops/losses.ts";
import type { Net } from "../../engine/nn/net.ts";
import { createTargetUpdate, type TargetUpdate } from "../../engine/nn/target.ts";
import type { Tensor } from "../../engine/tensor.ts";
import type { BatchSource } from "./stages.ts";
import type { IdqnConfig } from "./config.ts";
import { createQNetwork, type QNetwork, type QNetworkSpec } from "./network.ts";

/** Options of {@linkcode createLearner}. */
export interface LearnerOptions {
  net: Net;
  target: Net;
  spec: QNetworkSpec;
  source: BatchSource;
  config: Readonly<IdqnConfig>;
  label: string;
}

/** A bound learner. */
export interface Learner {
  /** Online Q on the batch's obs [numLearners, batch, numActions]. */
  readonly online: QNetwork;
  readonly loss: QLoss;
  readonly adam: Adam;
  readonly targetUpdate: TargetUpdate;
  /** Records one learning step (sample, forward, loss, backward, Adam, after-learn hook, Polyak). */
  learn(enc: Encoder): void;
  /** Records θ' ← θ. */
  syncTarget(enc: Encoder): void;
}

/**
 * Builds the learning step over `o.source`'s tensors (instances and pipelines built once).
 *
 * @param engine Engine that owns the device.
 * @param o Networks, architecture, batch source, hyper-parameters and label.
 * @returns A {@linkcode Learner}.
 */
export async function createLearner(engine: Engine, o: LearnerOptions): Promise<Learner> {
  const { net, target, spec, source, config: c, label } = o;
  const L = net.numAgents, B = source.size, nA = spec.numActions;
  const b = source.batch;
  const online = await createQNetwork(engine, {
    net,
    x: b.obs,
    batch: B,
    spec,
    label: `${label}.q`,
  });
  const next = await createQNetwork(engine, {
    net: target,
    x: b.nextObs,
    batch: B,
    spec,
    label: `${label}.targetNext`,
  });
  const onlineNext = c.double
    ? await createQNetwork(engine, { net, x: b.nextObs, batch: B, spec, label: `${label}.qNext` })
    : null;
  // The SEAC code never masks terminals (docs/algorithms/idqn.md §2.1): a zero done keeps bootstrapping.
  let done: Tensor = b.done;
  if (c.bootstrapOnTerminal) {
    done = engine.tensor({ dtype: "f32", shape: [L, B], label: `${label}.noDone` });
    const zero = await createFill(engine, done, 0);
    const enc = engine.encoder(`${label}.noDone`);
    zero.encode(enc);
    engine.submit(enc);
  }
  const td = await createTdTarget(engine, {
    qNext: next.q,
    qNextOnline: onlineNext?.q,
    reward: b.reward,
    done,
    numAgents: L,
    batch: B,
    numActions: nA,
    gamma: c.gamma,
    label: `${label}.td`,
  });
  const loss = await createQLoss(engine, {
    kind: c.loss === "mse" ? "mse" : "huber",
    q: online.q,
    action: b.action,
    target: td.y,
    weights: b.weight ?? undefined,
    numAgents: L,
    batch: B,
    numActions: nA,
    dQ: online.dQ,
    label: `${label}.loss`,
  });
  const adam = await createAdam(engine, {
    net,
    lr: c.lr,
    eps: c.adamEps,
    maxNorm: c.maxGradNorm,
    label,
  });
  const targetUpdate = await createTargetUpdate(engine, { source: net, target, tau: c.tau, label });
  const polyak = c.tau < 1;
  return {
    online,
    loss,
    adam,
    targetUpdate,
    learn(enc) {
      source.encode(enc);
      online.forward(enc);
      next.forward(enc);
      onlineNext?.forward(enc);
      td.forward(enc);
      loss.forward(enc);
      loss.backward(enc);
      online.backward(enc);
      adam.step(enc);
      source.afterLearn?.(enc, loss.absDelta);
      if (polyak) targetUpdate.polyak(enc);
    },
    syncTarget(enc) {
      targetUpdate.hard(enc);
    },
  };
}
