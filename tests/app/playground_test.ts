// The playground's catalogue and sessions on this machine's adapter (capped at 8 storage
// buffers): every offered pair of one task per family builds, trains, reads a frame its renderer
// draws, and reads metrics; watch mode counts episodes without training.
import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert/strict";
import {
  PLAYGROUND_ALGORITHMS,
  PLAYGROUND_TASKS,
  playgroundConfig,
  playgroundConfigFromCheckpoint,
  playgroundFits,
} from "../../app/playground_config.ts";
import { createPlaygroundSession } from "../../app/playground.ts";
import { ALGORITHMS } from "../../algorithms/mod.ts";
import { findTask } from "../../envs/registry.ts";
import { findRenderer } from "../../envs/renderers.ts";
import { createRecordingContext } from "../../envs/draw_recorder.ts";
import { gpuTest } from "../_testing.ts";

Deno.test("the playground offers every algorithm, and tasks of every family with a renderer", () => {
  assertEquals(Object.keys(PLAYGROUND_ALGORITHMS).sort(), Object.keys(ALGORITHMS).sort());
  const families = new Set(PLAYGROUND_TASKS.map((t) => findTask(t.env).spec.family));
  assertEquals([...families].sort(), ["lbf", "pursuit", "rware", "traffic", "warehouse"]);
  for (const t of PLAYGROUND_TASKS) assert(findRenderer(findTask(t.env).spec.family), t.label);
  for (const algo of ["seac", "iac", "snac", "idqn", "seql", "iql"]) {
    for (const env of ["Foraging-8x8-2p-2f-coop", "rware-tiny-4ag"]) {
      assert(playgroundFits(algo, env), `${algo} on ${env}`);
    }
  }
  assert(!playgroundFits("seac", "pursuit"), "actor-critic needs flat observations");
  assert(!playgroundFits("dials", "Foraging-5x5-2p-1f"), "DIALS needs local simulators");
  assert(!playgroundFits("nope", "pursuit"));
  throws(
    () => playgroundConfig({ algo: "seac", env: "pursuit" }),
    /Cannot run "seac" on "pursuit" in the playground: the pair is not offered/,
  );
});

Deno.test("playgroundConfig() sizes runs for browsers, and a checkpoint's settings win", () => {
  const iql = playgroundConfig({ algo: "iql", env: "rware-tiny-2ag", numEnvs: 4 });
  assert(iql.algo.name === "iql" && iql.algo.bufferSize === 20_000, "small replay ring");
  const idqn = playgroundConfig({ algo: "idqn", env: "Foraging-5x5-2p-1f" });
  assert(idqn.algo.name === "idqn" && idqn.algo.conv.length === 0, "no conv on flat obs");
  const conv = playgroundConfig({ algo: "idqn", env: "pursuit" });
  assert(conv.algo.name === "idqn" && conv.algo.conv.length > 0, "conv on images");
  const lbf = playgroundConfig({ algo: "seac", env: "Foraging-5x5-2p-1f" });
  assert(lbf.algo.name === "seac" && lbf.algo.hidden === 32 && lbf.algo.lr === 3e-3);
  const back = playgroundConfigFromCheckpoint(
    { env: "Foraging-5x5-2p-1f", seed: 4, algo: { ...lbf.algo, hidden: 16 } },
    2,
  );
  assert(back.algo.name === "seac" && back.algo.hidden === 16 && back.numEnvs === 2);
  throws(() => playgroundConfigFromCheckpoint({ env: "pursuit" }, 2), /no algo\.name or env/);
});

const TASK_PER_FAMILY = [
  "Foraging-5x5-2p-1f",
  "rware-tiny-2ag",
  "pursuit",
  "warehouse-4",
  "traffic-4",
];
/** DIALS retrains influence predictors before its first update: slow here, built elsewhere. */
const SLOW = new Set(["dials", "untrained_dials"]);

for (const env of TASK_PER_FAMILY) {
  gpuTest(
    `every offered algorithm builds, trains and draws on ${env} within 8 storage buffers`,
    async (engine) => {
      for (const algo of Object.keys(PLAYGROUND_ALGORITHMS)) {
        if (!playgroundFits(algo, env) || SLOW.has(algo)) continue;
        const session = await createPlaygroundSession(
          playgroundConfig({ algo, env, numEnvs: 2 }),
          { engine },
        );
        const before = await session.readFrame(1);
        session.train(1);
        const m = await session.readMetrics();
        assertEquals(m.envSteps, session.stepsPerIteration, `${algo} on ${env}`);
        const frame = (await session.readFrame(1))!;
        assertEquals(Object.keys(frame.state), [...session.renderer!.tensors]);
        const a = createRecordingContext(), b = createRecordingContext();
        session.renderer!.draw(a.ctx, before!);
        session.renderer!.draw(b.ctx, frame);
        assert(a.commands.length > 10, `${algo} on ${env} draws`);
        assert(
          JSON.stringify(a.commands) !== JSON.stringify(b.commands),
          `${algo} on ${env} moves`,
        );
        session.destroy();
      }
      assertEquals(engine.limit("maxStorageBuffersPerShaderStage"), 8);
    },
  );
}

gpuTest("watch() runs the policy without training and counts its episodes", async (engine) => {
  const session = await createPlaygroundSession(
    playgroundConfig({ algo: "seac", env: "Foraging-5x5-2p-1f", numEnvs: 8 }),
    { engine },
  );
  session.watch(120, { greedy: false });
  const m = await session.readMetrics();
  assertEquals([m.mode, m.envSteps, m.watchSteps], ["watch", 0, 960]);
  assert(m.episodes > 0 && m.meanLength > 0 && m.meanLength <= 50, JSON.stringify(m));
  throws(() => session.watch(-1, { greedy: true }), /steps is -1/);
  await session.readFrame(7);
  await (async () => {
    try {
      await session.readFrame(8);
      throw new Error("no error");
    } catch (e) {
      assert(/Cannot draw env 8 of "Foraging-5x5-2p-1f": the session has 8 envs/.test(String(e)));
    }
  })();
});
