// Seeds batched in one run (docs/statistics.md §8), through the product: `seeds: 3` in a config
// trains the three seeds in one trainer and writes per-seed folders whose metrics rows (with the
// in-training evaluations), checkpoints and best models equal three lone runs byte for byte; the
// batch stops and resumes from its seeds' checkpoints as if uninterrupted; a seed folder resumes
// on its own; a family without seed batching runs its seeds one after another and says so.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { readCheckpoint } from "../../app/checkpoint.ts";
import { type MetricsRow, readMetricsRows, train } from "../../app/train.ts";
import { gpuTest } from "../_testing.ts";

const SEAC_SEEDS = {
  seed: 5,
  numEnvs: 4,
  totalSteps: 2400,
  env: "Foraging-5x5-2p-1f",
  algo: { name: "seac", lr: 0.003, hidden: 16 },
  log: { interval: 400, checkpointEvery: 800 },
  eval: { interval: 800, episodes: 6, envs: 3, policy: "greedy" },
};

function deterministic(rows: MetricsRow[]) {
  return rows.map(({ wallSeconds: _w, stepsPerSecond: _s, ...rest }) => rest);
}

async function sameCheckpoint(a: string, b: string): Promise<void> {
  const x = await readCheckpoint(a), y = await readCheckpoint(b);
  assertEquals(x.tensors, y.tensors, `${a} vs ${b}`);
  assertEquals(x.hostState, y.hostState);
  assertEquals(x.metadata.evalState, y.metadata.evalState);
}

gpuTest(
  "seeds: 3 batched equal three lone runs; the batch resumes; a seed resumes alone",
  async (engine) => {
    const root = await Deno.makeTempDir();
    const lines: string[] = [];
    const opts = {
      root,
      engine,
      progress: "plain" as const,
      report: false,
      write: (t: string) => void lines.push(t),
    };
    try {
      const batch = await train({ ...SEAC_SEEDS, name: "batch", seeds: 3 }, opts);
      assertEquals(batch.seeds.map((s) => s.dir.split("/").at(-1)), ["seed-5", "seed-6", "seed-7"]);
      assert(lines.some((l) => l.includes("3 seeds batched")), lines.join(""));
      for (const [k, s] of batch.seeds.entries()) {
        const lone = await train({ ...SEAC_SEEDS, name: `lone${k}`, seed: 5 + k }, opts);
        assertEquals(deterministic(s.rows), deterministic(lone.seeds[0].rows));
        assert(s.rows.some((r) => r.eval), "evaluation rows");
        for (const f of ["checkpoint.safetensors", "best.safetensors"]) {
          await sameCheckpoint(`${s.dir}/${f}`, `${lone.dir}/${f}`);
        }
        assertEquals(deterministic(await readMetricsRows(s.dir)), deterministic(s.rows));
      }
      // Stopped at 1200 steps (checkpoints at 800: the resume repeats 800..1200), then resumed.
      const part = await train({ ...SEAC_SEEDS, name: "part", seeds: 3 }, {
        ...opts,
        stopAt: 1200,
      });
      assert(part.seeds.every((s) => !s.finished));
      const resumed = await train(undefined, { ...opts, resume: `${root}/part` });
      assert(resumed.seeds.every((s) => s.finished));
      for (const [k, s] of resumed.seeds.entries()) {
        assertEquals(
          deterministic(await readMetricsRows(s.dir)),
          deterministic(batch.seeds[k].rows),
        );
        await sameCheckpoint(
          `${s.dir}/checkpoint.safetensors`,
          `${batch.seeds[k].dir}/checkpoint.safetensors`,
        );
      }
      // One seed folder of a stopped batch resumes on its own, to the same end.
      await train({ ...SEAC_SEEDS, name: "alone", seeds: 3 }, { ...opts, stopAt: 800 });
      const one = await train(undefined, { ...opts, resume: `${root}/alone/seed-6` });
      assertEquals(deterministic(one.seeds[0].rows), deterministic(batch.seeds[1].rows));
      // A family without seed batching: one after another, with a message.
      lines.length = 0;
      const dials = await train({
        seed: 1,
        numEnvs: 2,
        totalSteps: 64,
        env: "Foraging-5x5-2p-1f",
        algo: { name: "random" },
        log: { interval: 32, checkpointEvery: 0 },
        name: "random",
      }, { ...opts, seeds: 2 });
      assertEquals(dials.seeds.length, 2);
      assert(
        lines.some((l) => l.includes("seeds run one after another: random does not batch seeds")),
        lines.join(""),
      );
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);
