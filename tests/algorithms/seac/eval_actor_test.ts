// The SEAC family's evaluation actor: the trainer's current actors acting on another env's
// observations (greedy argmax and Gumbel-max samples from the actor's own RNG stream), against
// the float64 CPU actor.
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { createSeacTrainer, SEAC_DEFAULTS } from "../../../algorithms/seac/mod.ts";
import { seacSpecs } from "../../../algorithms/seac/config.ts";
import { actorLogitsReference, mlpSize } from "../../../algorithms/seac/reference.ts";
import { readTensors } from "../../../engine/readback.ts";
import { RNG_PURPOSE, rngCategoricalLogits } from "../../../engine/rng.ts";
import { LBF } from "../../../envs/lbf/env.ts";
import { gpuTest } from "../../_testing.ts";

const TASK = "Foraging-8x8-2p-2f-coop";

for (const sharing of ["seac", "snac"] as const) {
  gpuTest(`${sharing} acts on evaluation envs with its current actors`, async (engine) => {
    const spec = LBF.parseTask(TASK)!;
    const env = await LBF.create(engine, spec, { numEnvs: 4, seed: 1 });
    const algo = { ...SEAC_DEFAULTS, hidden: 16, lr: 3e-3 };
    const tr = await createSeacTrainer(engine, env, { sharing, seed: 2, algo });
    tr.run(3); // the weights have moved from their initial values
    const E = 3, N = spec.numAgents, D = spec.obsShape[0], K = spec.numActions, seed = 77;
    const evalEnv = await LBF.create(engine, spec, { numEnvs: E, seed: 5 });
    const reset = engine.encoder();
    evalEnv.encodeReset(reset);
    engine.submit(reset);
    const actor = await tr.createEvalActor!(evalEnv, { seed });
    const specs = seacSpecs(D, K, algo.hidden);
    const stride = mlpSize(specs.actor.sizes) + mlpSize(specs.critic.sizes);
    const [params] = await readTensors(engine, [tr.parts.net.params] as const);
    for (let step = 0; step < 4; step++) {
      const greedy = step % 2 === 0;
      const [obs] = await readTensors(engine, [evalEnv.buffers.obs] as const);
      const enc = engine.encoder();
      actor.encodeAct(enc, greedy);
      engine.submit(enc);
      const [actions, counter] = await readTensors(
        engine,
        [evalEnv.buffers.actions, actor.stateTensors().counter] as const,
      );
      const want = new Uint32Array(N * E);
      for (let a = 0; a < N; a++) {
        for (let e = 0; e < E; e++) {
          const r = a * E + e;
          const base = sharing === "snac" ? 0 : a * stride;
          const logits = actorLogitsReference(
            params,
            base,
            specs.actor.sizes,
            obs.subarray(r * D, (r + 1) * D),
          );
          want[r] = greedy
            ? logits.indexOf(Math.max(...logits))
            : rngCategoricalLogits(seed, RNG_PURPOSE.action, e, a, step, logits);
        }
      }
      assertEquals(Array.from(actions), Array.from(want), `${sharing} step ${step}`);
      assertEquals(counter[1], step + 1, "the actor's own step counter advances");
      const next = engine.encoder();
      evalEnv.encodeStep(next);
      engine.submit(next);
    }
  });
}
