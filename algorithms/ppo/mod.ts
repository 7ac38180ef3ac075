/**
 * Independent PPO on the GPU (docs/algorithms/ppo.md), the building blocks of the DIALS family:
 * every agent has its own policy (a GRU or MLP trunk with actor and critic heads, batched over
 * agents in each dispatch) and its own Adam. One PPO iteration, as `algorithms/dials/gs.ts` and
 * `algorithms/dials/mod.ts` record it:
 *
 * ```text
 * ACT → STEP → STORE   T steps: a_t^i ~ π_i(·|o_t^i), V_i(o_t^i), env step, store   (rollout.ts)
 * RETURNS              GAE(γ, λ) per agent over the rollout, cut at episode ends    (rollout.ts)
 * LOSS → UPDATE        epochs × minibatches: clipped surrogate, clipped value loss,
 *                      entropy bonus; BPTT through the GRU; Adam, linear lr and clip
 *                      schedules                                                     (learner.ts)
 * ```
 *
 * The registered algorithms built from these are in `algorithms/dials/`: `ppo_gs` (PPO in the
 * global simulator), `dials` and `untrained_dials` (PPO in influence-augmented local simulators).
 * `reference.ts` is the float64 CPU reference of GAE and the PPO loss.
 *
 * @module
 */
export { createPpoLearner, type PpoLearner, type PpoLearnerOptions } from "./learner.ts";
export {
  createTrunkActor,
  createTrunkLearner,
  ppoPolicySpec,
  type TrunkActor,
  type TrunkLearner,
  type TrunkSpec,
} from "./policy.ts";
export { createPpoRollout, type PpoRollout, type PpoRolloutOptions } from "./rollout.ts";
