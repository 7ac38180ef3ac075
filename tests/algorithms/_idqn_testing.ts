// Shared checks of the IDQN-family learning-step tests (idqn, SUPER, LBS).
import { ok as assert } from "node:assert/strict";
import { assertAllClose } from "../_testing.ts";

/**
 * Compares parameters after one Adam step with the reference's. Adam's first step is ±lr·clip
 * per parameter where |g| ≫ eps, so only parameters whose reference gradient is not within f32
 * noise of zero are compared (elsewhere the sign of a ~0 gradient decides the step); most must be.
 */
export function assertAdamStepClose(
  gpuParams: ArrayLike<number>,
  ref: { grads: ArrayLike<number> },
  refParams: ArrayLike<number>,
  lr: number,
): void {
  const grads = Array.from(ref.grads);
  const gmax = Math.max(...grads.map(Math.abs));
  const keep = [...grads.keys()].filter((i) => Math.abs(grads[i]) > 1e-3 * gmax);
  assert(keep.length > grads.length / 4, "most gradients are well above noise");
  assertAllClose(
    keep.map((i) => gpuParams[i]),
    keep.map((i) => refParams[i]),
    { atol: 1e-3 * lr, rtol: 1e-5 },
    "params after Adam",
  );
}
