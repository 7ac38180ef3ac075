/**
 * A network's parameters: one flat block per agent, `params [numAgents, stride]` and `grads` of the
 * same shape. Layers address their weights by offset inside the block, so Adam and global-norm
 * clipping run fused over each agent's whole parameter vector.
 *
 * @module
 */
import type { Engine } from "../device.ts";
import type { Tensor } from "../tensor.ts";

/** Parameters and gradients of `numAgents` copies of one network. */
export interface Net {
  readonly numAgents: number;
  /** Parameters per agent. */
  readonly stride: number;
  readonly params: Tensor<"f32">;
  readonly grads: Tensor<"f32">;
  readonly label: string;
}

/**
 * Allocates a network's parameter and gradient buffers; `init` (host values) is uploaded.
 *
 * @example One parameter block per agent, with its gradient buffer
 * ```ts
 * import { createEngine, createNet } from "../../mod.ts";
 *
 * const engine = await createEngine();
 * const net = createNet(engine, { numAgents: 3, stride: 100, label: "example.net" });
 * console.log(net.params.shape, net.grads.shape); // [3, 100] [3, 100]
 * engine.destroy();
 * ```
 */
export function createNet(
  engine: Engine,
  options: { numAgents: number; stride: number; label: string; init?: Float32Array },
): Net {
  const { numAgents, stride, label } = options;
  if (!(numAgents >= 1 && stride >= 1)) {
    throw new RangeError(
      `Cannot create net "${label}": numAgents ${numAgents} and stride ${stride} must be >= 1`,
    );
  }
  if (options.init && options.init.length !== numAgents * stride) {
    throw new TypeError(
      `Cannot create net "${label}": init has ${options.init.length} values, needs ${
        numAgents * stride
      }`,
    );
  }
  const shape = [numAgents, stride];
  return {
    numAgents,
    stride,
    label,
    params: engine.tensor({ dtype: "f32", shape, label: `${label}.params`, data: options.init }),
    grads: engine.tensor({ dtype: "f32", shape, label: `${label}.grads` }),
  };
}
