// In-training evaluation (algorithms/evaluation.ts): exact episode counts on separate envs, checked
// against the CPU reference env stepping the same actions from the same resets.
import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import { createEvaluation, evalIntervalSteps } from "../../algorithms/evaluation.ts";
import { RANDOM } from "../../algorithms/random_policy.ts";
import { EVAL_OFF, type EvalConfig, type RunConfig } from "../../algorithms/trainer.ts";
import { RNG_PURPOSE, rngBelow, rngU32 } from "../../engine/rng.ts";
import { LbfReferenceVec } from "../../envs/lbf/reference.ts";
import { parseLbfTask } from "../../envs/lbf/state.ts";
import { assertAllClose, gpuTest } from "../_testing.ts";

/** The CPU twin of one evaluation: per-env quotas of the first episodes after a reset. */
function referenceEvaluation(
  vec: LbfReferenceVec,
  o: { episodes: number; steps: number; actionsAt: (t: number) => Uint32Array },
): { episodes: number; returnPerAgent: number[]; meanLength: number } {
  const E = vec.numEnvs, A = vec.numAgents;
  vec.reset();
  const quota = Array.from(
    { length: E },
    (_, e) => Math.floor(o.episodes / E) + (e < o.episodes % E ? 1 : 0),
  );
  const counted = new Array<number>(E).fill(0);
  const running = new Float64Array(A * E), len = new Float64Array(E);
  const sum = new Float64Array(A);
  let lengths = 0, episodes = 0;
  for (let t = 0; t < o.steps; t++) {
    vec.step(o.actionsAt(t));
    for (let e = 0; e < E; e++) {
      len[e]++;
      for (let a = 0; a < A; a++) running[a * E + e] += vec.reward[a * E + e];
      if (vec.terminated[e] || vec.truncated[e]) {
        if (counted[e] < quota[e]) {
          counted[e]++;
          episodes++;
          lengths += len[e];
          for (let a = 0; a < A; a++) sum[a] += running[a * E + e];
        }
        len[e] = 0;
        for (let a = 0; a < A; a++) running[a * E + e] = 0;
      }
    }
  }
  return {
    episodes,
    returnPerAgent: Array.from(sum, (s) => s / episodes),
    meanLength: lengths / episodes,
  };
}

gpuTest(
  "an evaluation of the random baseline counts exactly its episodes, as the CPU reference env does",
  async (engine) => {
    const task = "Foraging-5x5-2p-1f"; // food eaten ends an episode early: lengths vary
    const run: RunConfig = { seed: 11, numEnvs: 4, totalSteps: 1000, env: task };
    const trainer = await RANDOM.create(engine, run, {});
    const config: EvalConfig = {
      ...EVAL_OFF,
      episodes: 7,
      envs: 3,
      seed: 5,
      policy: "stochastic",
      returns: "team",
    };
    const evaluation = await createEvaluation(engine, trainer, { run, config });
    const cfg = parseLbfTask(task)!;
    const evalSeed = run.seed + config.seed, E = 3, A = cfg.numPlayers;
    assertEquals(evaluation.env.numEnvs, E);
    assertEquals(evaluation.stepsPerEval, Math.ceil(7 / E) * cfg.maxEpisodeSteps);
    const vec = new LbfReferenceVec(cfg, { numEnvs: E, seed: evalSeed });
    // The actor's RNG step runs on across evaluations; the envs restart from their resets.
    let step = 0;
    const actionsAt = () => {
      const out = new Uint32Array(A * E);
      for (let a = 0; a < A; a++) {
        for (let e = 0; e < E; e++) {
          out[a * E + e] = rngBelow(rngU32(evalSeed, RNG_PURPOSE.action, e, a, step, 0), 6);
        }
      }
      step++;
      return out;
    };
    for (const round of [0, 1]) {
      const reads = engine.stats.reads;
      const got = await evaluation.run(1000 * (round + 1));
      assertEquals(engine.stats.reads - reads, 1, "one readback per evaluation");
      const want = referenceEvaluation(vec, {
        episodes: 7,
        steps: evaluation.stepsPerEval,
        actionsAt,
      });
      assertEquals(got.episodes, 7);
      assertEquals(want.episodes, 7);
      assertAllClose(got.returnPerAgent, want.returnPerAgent, { atol: 1e-6 }, `returns ${round}`);
      assertAllClose([got.meanLength], [want.meanLength], { atol: 1e-9 }, `length ${round}`);
      const team = want.returnPerAgent.reduce((s, v) => s + v, 0);
      assertAllClose([got.value], [team], { atol: 1e-6 }, `team return ${round}`);
      assert(team > 0 && want.meanLength < cfg.maxEpisodeSteps, "some food eaten, some early ends");
      assertEquals(got.best, null, "no best tracking unless asked");
    }
    assert(step > evaluation.stepsPerEval, "the second evaluation drew new actions");
  },
);

gpuTest("an evaluation records without reading and keeps the best value", async (engine) => {
  const run: RunConfig = { seed: 3, numEnvs: 2, totalSteps: 1000, env: "Foraging-5x5-2p-1f" };
  const trainer = await RANDOM.create(engine, run, {});
  const config: EvalConfig = { ...EVAL_OFF, episodes: 4, envs: 8, best: true };
  const evaluation = await createEvaluation(engine, trainer, { run, config });
  assertEquals(evaluation.env.numEnvs, 4, "at most `episodes` envs");
  const reads = engine.stats.reads;
  evaluation.record();
  assertEquals(engine.stats.reads, reads, "record() reads nothing");
  const values: number[] = [];
  let best = -Infinity, bestAt = -1;
  for (let k = 1; k <= 4; k++) {
    const r = await evaluation.run(100 * k);
    values.push(r.value);
    if (r.value > best) [best, bestAt] = [r.value, 100 * k];
    assertEquals(r.best, { value: best, envSteps: bestAt }, `best after ${k}`);
  }
  const state = evaluation.hostState();
  const again = await createEvaluation(engine, trainer, { run, config });
  again.restoreHostState(JSON.parse(JSON.stringify(state)));
  assertEquals(again.best, evaluation.best);
  const fresh = await createEvaluation(engine, trainer, { run, config });
  fresh.restoreHostState(JSON.parse(JSON.stringify(fresh.hostState())));
  assertEquals(fresh.best, null, "NaN (JSON null) restores as no best yet");
  await rejects(
    () => createEvaluation(engine, trainer, { run, config: { ...config, episodes: 0 } }),
    RangeError,
  );
});

Deno.test("evalIntervalSteps() takes the fraction of the budget when set", () => {
  assertEquals(evalIntervalSteps({ ...EVAL_OFF, intervalFraction: 0.005 }, 800_000), 4000);
  assertEquals(evalIntervalSteps({ ...EVAL_OFF, intervalFraction: 0.005 }, 10), 1);
  assertEquals(evalIntervalSteps({ ...EVAL_OFF, interval: 1234 }, 10), 1234);
  assertEquals(evalIntervalSteps(EVAL_OFF, 10), 0);
});
