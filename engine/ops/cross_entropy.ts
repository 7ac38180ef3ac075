/**
 * Classification losses on logits, batched over agents, with explicit backward (kernels in
 * `shaders/engine/ops/policy.wgsl`): softmax cross-entropy against integer labels or against target
 * probabilities (rows `[numAgents, batch, numActions]`), and binary cross-entropy with logits
 * against targets `[numAgents, batch, K]` in the stable form max(x, 0) − x·y + log(1 + e^{−|x|}).
 * Each writes a per-row (per-element for BCE) loss `out` and its per-agent mean.
 *
 * @module
 */
import type { Engine } from "../device.ts";
import type { Tensor } from "../tensor.ts";
import { buildLogitOp, type LogitLoss, type LogitLossOptions, policyKernel } from "./policy.ts";

/** out = −log softmax(logits)[label], one thread per row. */
export const crossEntropyForward = policyKernel(
  "crossEntropyForward",
  { logits: "read", actions: "read", out: "write" },
);
/** dLogits = g (p − onehot(label)), one thread per row. */
export const crossEntropyBackward = policyKernel(
  "crossEntropyBackward",
  { logits: "read", actions: "read", dOut: "read", dLogits: "write" },
);
/** out = −Σ t log softmax(logits), one thread per row. */
export const softCrossEntropyForward = policyKernel(
  "softCrossEntropyForward",
  { logits: "read", targets: "read", out: "write" },
);
/** dLogits = g (p Σ t − t), one thread per row. */
export const softCrossEntropyBackward = policyKernel(
  "softCrossEntropyBackward",
  { logits: "read", targets: "read", dOut: "read", dLogits: "write" },
);
/** out = max(x, 0) − x·y + log(1 + e^{−|x|}), one thread per element. */
export const bceForward = policyKernel(
  "bceForward",
  { logits: "read", targets: "read", out: "write" },
  true,
);
/** dLogits = g (σ(x) − y), one thread per element. */
export const bceBackward = policyKernel(
  "bceBackward",
  { logits: "read", targets: "read", dOut: "read", dLogits: "write" },
  true,
);

/**
 * Builds softmax cross-entropy against integer labels: `out [numAgents, batch]` = −log p[label],
 * `mean` = scale·mean per agent.
 *
 * @param engine Engine that owns the device.
 * @param options Logits, `labels [numAgents, batch]` u32, sizes, gradient mode and label.
 * @returns A {@linkcode LogitLoss}.
 */
export async function createCrossEntropy(
  engine: Engine,
  options: LogitLossOptions & { labels: Tensor },
): Promise<LogitLoss> {
  const op = await buildLogitOp(engine, options, {
    forward: crossEntropyForward,
    backward: crossEntropyBackward,
    outName: "out",
    dOutName: "dOut",
    inputs: { actions: { tensor: options.labels, dtype: "u32", perElement: false } },
    perElement: false,
    reduce: true,
    gradient: options.gradient ?? "mean",
  });
  return { ...op, mean: op.mean! };
}

/**
 * Builds softmax cross-entropy against target probabilities `targets [numAgents, batch,
 * numActions]`: `out [numAgents, batch]` = −Σ t log p, `mean` = scale·mean per agent.
 *
 * @param engine Engine that owns the device.
 * @param options Logits, targets, sizes, gradient mode and label.
 * @returns A {@linkcode LogitLoss}.
 */
export async function createSoftCrossEntropy(
  engine: Engine,
  options: LogitLossOptions & { targets: Tensor },
): Promise<LogitLoss> {
  const op = await buildLogitOp(engine, options, {
    forward: softCrossEntropyForward,
    backward: softCrossEntropyBackward,
    outName: "out",
    dOutName: "dOut",
    inputs: { targets: { tensor: options.targets, dtype: "f32", perElement: true } },
    perElement: false,
    reduce: true,
    gradient: options.gradient ?? "mean",
  });
  return { ...op, mean: op.mean! };
}

/**
 * Builds binary cross-entropy with logits against `targets [numAgents, batch, K]` (K =
 * `numActions`): `out` per element, `mean` = scale·mean over all batch·K elements per agent.
 *
 * @param engine Engine that owns the device.
 * @param options Logits, targets, sizes, gradient mode and label.
 * @returns A {@linkcode LogitLoss}.
 */
export async function createBce(
  engine: Engine,
  options: LogitLossOptions & { targets: Tensor },
): Promise<LogitLoss> {
  const op = await buildLogitOp(engine, options, {
    forward: bceForward,
    backward: bceBackward,
    outName: "out",
    dOutName: "dOut",
    inputs: { targets: { tensor: options.targets, dtype: "f32", perElement: true } },
    perElement: true,
    reduce: true,
    gradient: options.gradient ?? "mean",
  });
  return { ...op, mean: op.mean! };
}
