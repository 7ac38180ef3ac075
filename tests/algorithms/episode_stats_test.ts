import { createEpisodeStats } from "../../algorithms/episode_stats.ts";
import { readTensor } from "../../engine/readback.ts";
import type { EnvBuffers } from "../../envs/env.ts";
import { assertAllClose, gpuTest, seeded } from "../_testing.ts";

gpuTest("episode statistics sum finished returns and lengths like a CPU tally", async (engine) => {
  const numAgents = 3, numEnvs = 37, steps = 23;
  const r = seeded(11);
  const reward = engine.tensor({ dtype: "f32", shape: [numAgents, numEnvs], label: "t.reward" });
  const terminated = engine.tensor({ dtype: "u32", shape: [numEnvs], label: "t.term" });
  const truncated = engine.tensor({ dtype: "u32", shape: [numEnvs], label: "t.trunc" });
  const env = { reward, terminated, truncated } as unknown as EnvBuffers;
  const stats = await createEpisodeStats(engine, { env, numAgents, numEnvs, label: "t.stats" });
  const running = new Float64Array(numAgents * numEnvs), len = new Float64Array(numEnvs);
  const want = new Float64Array(numAgents + 2);
  for (let t = 0; t < steps; t++) {
    const rw = r.f32(numAgents * numEnvs), te = r.u32(numEnvs, 5).map((v) => v === 0 ? 1 : 0);
    const tr = r.u32(numEnvs, 7).map((v) => v === 0 ? 1 : 0);
    engine.write(reward, rw);
    engine.write(terminated, te);
    engine.write(truncated, tr);
    const enc = engine.encoder();
    stats.track(enc);
    if (t === 11) stats.summarise(enc); // a summary mid-way zeroes the accumulators
    engine.submit(enc);
    for (let e = 0; e < numEnvs; e++) {
      const ended = te[e] || tr[e];
      len[e]++;
      for (let a = 0; a < numAgents; a++) {
        running[a * numEnvs + e] += rw[a * numEnvs + e];
        if (ended) {
          want[a] += running[a * numEnvs + e];
          running[a * numEnvs + e] = 0;
        }
      }
      if (ended) {
        want[numAgents]++;
        want[numAgents + 1] += len[e];
        len[e] = 0;
      }
    }
    if (t === 11) want.fill(0); // the GPU summarised (and zeroed) after this step's track
  }
  const enc = engine.encoder();
  stats.summarise(enc);
  engine.submit(enc);
  const out = await readTensor(engine, stats.out);
  assertAllClose(out, want, { atol: 1e-4, rtol: 1e-5 }, "stats");
  const s = stats.decode(out);
  if (s.episodes !== want[numAgents]) throw new Error(`episodes ${s.episodes}`);
});
