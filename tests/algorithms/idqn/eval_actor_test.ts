// The IDQN family's evaluation actor: the online networks acting on another env's observations,
// greedy (argmax) or ε-greedy at epsilonEnd from the actor's own RNG stream, against the float64
// CPU Q-network. SUPER and LBS act through the same actor (StageTrainer delegates to it).
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { createIdqnTrainer, IDQN_DEFAULTS, networkSpec } from "../../../algorithms/idqn/mod.ts";
import {
  epsilonGreedyReference,
  qNetworkForwardReference,
} from "../../../algorithms/idqn/reference.ts";
import { readTensors } from "../../../engine/readback.ts";
import { RNG_PURPOSE } from "../../../engine/rng.ts";
import { LBF } from "../../../envs/lbf/env.ts";
import { gpuTest } from "../../_testing.ts";

const TASK = "Foraging-5x5-2p-1f";

for (const variant of ["idqn", "ps"] as const) {
  gpuTest(`${variant} acts on evaluation envs with its online networks`, async (engine) => {
    const numEnvs = 3;
    const algo = {
      ...IDQN_DEFAULTS,
      conv: [],
      dense: [8],
      embed: 0,
      headHidden: 0,
      dueling: false,
      prioritized: false,
      lr: 1e-2,
      batchSize: 6,
      bufferSize: 40,
      stepsPerUpdate: numEnvs,
      learningStarts: 3 * numEnvs,
      epsilonEnd: 0.3,
    };
    const run = { seed: 6, numEnvs, totalSteps: 1000, env: TASK };
    const tr = await createIdqnTrainer(engine, variant, run, algo);
    tr.run(8); // a few gradient steps: the online weights have moved
    const spec = LBF.parseTask(TASK)!;
    const E = 4, N = spec.numAgents, seed = 21;
    const evalEnv = await LBF.create(engine, spec, { numEnvs: E, seed: 9 });
    const reset = engine.encoder();
    evalEnv.encodeReset(reset);
    engine.submit(reset);
    const actor = await tr.createEvalActor(evalEnv, { seed });
    const qSpec = networkSpec(algo, spec.obsShape, spec.numActions);
    const numLearners = variant === "ps" ? 1 : N;
    const [params] = await readTensors(engine, [tr.parts.net.params] as const);
    for (let step = 0; step < 6; step++) {
      const greedy = step % 2 === 1;
      const [obs] = await readTensors(engine, [evalEnv.buffers.obs] as const);
      const enc = engine.encoder();
      actor.encodeAct(enc, greedy);
      engine.submit(enc);
      const [actions] = await readTensors(engine, [evalEnv.buffers.actions] as const);
      const q = qNetworkForwardReference({
        spec: qSpec,
        numLearners,
        batch: (N * E) / numLearners,
        params,
        x: obs,
      });
      const want = Array.from({ length: N * E }, (_, r) =>
        epsilonGreedyReference({
          q,
          row: r,
          numActions: spec.numActions,
          agent: Math.floor(r / E),
          env: r % E,
          step,
          eps: greedy ? 0 : algo.epsilonEnd,
          seed,
          purpose: RNG_PURPOSE.explore,
        }));
      assertEquals(Array.from(actions), want, `${variant} step ${step}`);
      const next = engine.encoder();
      evalEnv.encodeStep(next);
      engine.submit(next);
    }
    assertEquals(Object.keys(tr.policyTensors()), [`${variant}.net.params`]);
  });
}
