// The GS baseline's evaluation (algorithms/dials/gs_eval.ts, algorithms/ppo/eval_actor.ts): the
// agents' current policies act on separate GS copies with their own recurrent state, and the
// evaluation equals DIALS's way of acting on the GS (`encodeActStep`) from the same reset.
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { DIALS_DEFAULTS, type DialsConfig } from "../../../algorithms/dials/config.ts";
import { PPO_GS_EVALUATED } from "../../../algorithms/dials/gs_eval.ts";
import type { PpoAgents } from "../../../algorithms/dials/gs.ts";
import { createEpisodeStats } from "../../../algorithms/episode_stats.ts";
import { createEvaluation } from "../../../algorithms/evaluation.ts";
import { createSharedActor, createTrunkActor } from "../../../algorithms/ppo/policy.ts";
import { createPpoRollout } from "../../../algorithms/ppo/rollout.ts";
import { EVAL_OFF, type RunConfig, type Trainer } from "../../../algorithms/trainer.ts";
import { readTensor } from "../../../engine/readback.ts";
import { RNG_PURPOSE } from "../../../engine/rng.ts";
import { findTask } from "../../../envs/registry.ts";
import { gpuTest } from "../../_testing.ts";

const SMALL: DialsConfig = {
  ...DIALS_DEFAULTS,
  rolloutSteps: 16,
  seqLen: 8,
  gaeHorizon: 16,
  hidden: 8,
  hidden2: 8,
  numMinibatches: 2,
};

for (const gsPolicy of ["independent", "shared"]) {
  gpuTest(
    `ppo_gs (${gsPolicy}) evaluates its GRU policies on separate GS copies`,
    async (engine) => {
      const run: RunConfig = { seed: 4, numEnvs: 2, totalSteps: 10_000, env: "warehouse-4" };
      const algo = { ...SMALL, gsPolicy };
      const trainer = await PPO_GS_EVALUATED.create(engine, run, algo) as Trainer & {
        agents: PpoAgents;
      };
      trainer.run(1);
      const config = { ...EVAL_OFF, episodes: 3, envs: 2, seed: 3 };
      const evaluation = await createEvaluation(engine, trainer, { run, config });
      const got = await evaluation.run(trainer.envSteps);
      assertEquals(got.episodes, 3);
      // The same episodes acted as DIALS acts on its GS: act, env step, state commit in one call.
      const { def, spec } = findTask(run.env);
      const seed = run.seed + config.seed;
      const env = await def.create(engine, spec, { numEnvs: 2, seed });
      const { net, spec: trunk } = trainer.agents;
      const b = env.buffers, o = { net, spec: trunk, x: b.obs, numEnvs: 2, label: "t.actor" };
      const actor = gsPolicy === "shared"
        ? await createSharedActor(engine, {
          ...o,
          numAgents: spec.numAgents,
          terminated: b.terminated,
          truncated: b.truncated,
        })
        : await createTrunkActor(engine, o);
      const rollout = await createPpoRollout(engine, {
        env,
        actor,
        numActions: spec.numActions,
        steps: 1,
        seqLen: 1,
        horizon: 1,
        gamma: 0,
        lambda: 0,
        seed,
        purpose: RNG_PURPOSE.action,
        schedule: { totalSteps: 1, lr0: 0, lrEnd: 0, clip0: 0, clipEnd: 0 },
        label: "t.rollout",
      });
      const stats = await createEpisodeStats(engine, {
        env: b,
        numAgents: spec.numAgents,
        numEnvs: 2,
        episodes: 3,
        label: "t.stats",
      });
      const enc = engine.encoder();
      env.encodeReset(enc);
      rollout.encodeResetState(enc);
      for (let t = 0; t < evaluation.stepsPerEval; t++) {
        rollout.encodeActStep(enc, false);
        stats.track(enc);
      }
      stats.summarise(enc);
      engine.submit(enc);
      const want = stats.decode(await readTensor(engine, stats.out));
      assertEquals(got.returnPerAgent, want.meanReturnPerAgent);
      assertEquals(got.meanLength, want.meanLength);
    },
  );
}
