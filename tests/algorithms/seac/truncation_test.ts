// SEAC on LBF with the SEAC code's time limit (25 steps, reported as truncation): the episode ends
// at step 25 as a truncation, and the n-step returns bootstrap it with the critic as the reference
// code does (seac/storage.py with use_proper_time_limits, docs/algorithms/seac.md §1): at the
// truncated step R_t = V̂(o_t), the value predicted when acting, and the step before bootstraps
// from it, R_{t−1} = r_{t−1} + γ·V̂(o_t). A termination would give R_t = r_t instead.
import { SEAC, SEAC_DEFAULTS, type SeacParts } from "../../../algorithms/seac/mod.ts";
import { nStepReturnsReference } from "../../../algorithms/seac/reference.ts";
import type { RunConfig } from "../../../algorithms/trainer.ts";
import { readTensors } from "../../../engine/readback.ts";
import { assertAllClose, gpuTest } from "../../_testing.ts";

function assertTrue(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}

gpuTest(
  "SEAC bootstraps an LBF time-limit truncation at step 25 with the critic, as the reference code",
  async (engine) => {
    // 7-step rollouts: env step 25 falls in slot 3 of the fourth rollout (steps 22..28), so the
    // truncated step, the step before it and the next episode's first steps are all inside it.
    const E = 5, T = 7, gamma = 0.9;
    const run: RunConfig = {
      seed: 4,
      numEnvs: E,
      totalSteps: 1000,
      env: { name: "Foraging-15x15-2p-1f-coop", maxEpisodeSteps: 25, timeLimit: "truncate" },
    };
    const algo = { ...SEAC_DEFAULTS, hidden: 16, nSteps: T, gamma, iterationsPerSubmit: 1 };
    const tr = await SEAC.create(engine, run, algo) as Awaited<ReturnType<typeof SEAC.create>> & {
      parts: SeacParts;
    };
    const spec = tr.env.spec, N = spec.numAgents;
    assertTrue(spec.maxSteps === 25, `the env runs ${spec.maxSteps}-step episodes`);
    assertTrue(spec.config.timeLimit === "truncate", `timeLimit ${spec.config.timeLimit}`);
    tr.run(3); // 21 steps with three updates
    const [before] = await readTensors(engine, [tr.env.buffers.episodeStep] as const);
    const enc = engine.encoder("t.truncation");
    tr.parts.rollout.encodeCollect(enc);
    engine.submit(enc);
    const s = tr.parts.rollout.storage;
    const [rewards, masks, badMasks, values, returns] = await readTensors(
      engine,
      [s.rewards, s.masks, s.badMasks, s.values, s.returns] as const,
    );
    // Envs whose first episode lasted 21 steps (no food collected, the usual case of the
    // cooperative task under a random policy) reach the limit at slot 3.
    const full = [...before.keys()].filter((e) => before[e] === 21);
    assertTrue(full.length >= 3, `only ${full.length} envs at step 21: ${before}`);
    const TRUNC = 3, at = (t: number, k: number, e: number) => (t * N + k) * E + e;
    let valueSize = 0;
    for (const e of full) {
      // Slot t's masks are at t + 1: done and "truncated without termination" only after step 25.
      const m = Array.from({ length: T }, (_, t) => masks[(t + 1) * E + e]);
      const b = Array.from({ length: T }, (_, t) => badMasks[(t + 1) * E + e]);
      assertTrue(m.join() === "1,1,1,0,1,1,1", `env ${e} masks ${m}: episode end not at step 25`);
      assertTrue(b.join() === "1,1,1,0,1,1,1", `env ${e} bad masks ${b}: step 25 not a truncation`);
      for (let k = 0; k < N; k++) {
        const vT = values[at(TRUNC, k, e)];
        valueSize = Math.max(valueSize, Math.abs(vT - rewards[at(TRUNC, k, e)]));
        assertAllClose(
          [returns[at(TRUNC, k, e)]],
          [vT],
          { atol: 1e-6 },
          `R at step 25 (${k}, ${e})`,
        );
        assertAllClose(
          [returns[at(TRUNC - 1, k, e)]],
          [rewards[at(TRUNC - 1, k, e)] + gamma * vT],
          { atol: 1e-5, rtol: 1e-5 },
          `R at step 24 (${k}, ${e})`,
        );
      }
    }
    // The bootstrap is visible: a termination (R = r) would differ.
    assertTrue(valueSize > 1e-3, `V̂ ≈ r at the truncated step (${valueSize}): test is blind`);
    // And the whole rollout equals the reference recursion on the stored masks.
    const want = nStepReturnsReference({
      rewards,
      masks,
      badMasks,
      values,
      numAgents: N,
      numEnvs: E,
      nSteps: T,
      gamma,
    });
    assertAllClose(returns, want, { atol: 1e-5, rtol: 1e-5 }, "returns");
  },
);
