// `deno task sweep status` from the status files and run folders alone (no Slurm submission).
import { deepStrictEqual as assertEquals, match } from "node:assert/strict";
import { hostName, writeCellStatus, writeSweep } from "../../app/sweep_files.ts";
import { expandSweep, validateSweep } from "../../app/sweep_spec.ts";
import { statusText, sweepStatus } from "../../app/sweep_status.ts";

Deno.test("sweepStatus() reads each cell's state from its status file and metrics", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const spec = validateSweep({
      name: "s",
      configs: "random_lbf",
      grid: { seed: [1, 2, 3, 4, 5, 6] },
      overrides: { totalSteps: 1000 },
      seeds: 2,
    }, "s.yaml");
    const { sweep } = await expandSweep(spec, { baseDir: "." });
    await writeSweep(dir, sweep);
    await Deno.mkdir(`${dir}/logs`);
    const at = new Date().toISOString();
    await writeCellStatus(dir, 0, { state: "exited", code: 0, at });
    await writeCellStatus(dir, 1, { state: "exited", code: 75, at, job: "7_1" });
    await writeCellStatus(dir, 2, { state: "exited", code: 1, at });
    // A process of this machine that is gone, and one that is alive (this test).
    await writeCellStatus(dir, 3, {
      state: "running",
      host: hostName(),
      pid: 2 ** 22 + 1,
      since: at,
    });
    await writeCellStatus(dir, 4, { state: "running", host: hostName(), pid: Deno.pid, since: at });
    const run = `${dir}/runs/${sweep.cells[4].name}`;
    for (const [k, steps] of [[1, 600], [2, 400]]) {
      await Deno.mkdir(`${run}/seed-${k}`, { recursive: true });
      await Deno.writeTextFile(
        `${run}/seed-${k}/metrics.jsonl`,
        JSON.stringify({ envSteps: steps, returnPerAgent: [], scalars: {} }) + "\n",
      );
    }
    const { cells } = await sweepStatus(dir);
    assertEquals(cells.map((c) => c.state), [
      "done",
      "interrupted",
      "failed",
      "failed",
      "running",
      "pending",
    ]);
    assertEquals([cells[4].steps, cells[4].total], [1000, 2000]);
    const text = statusText(sweep, cells);
    match(
      text,
      /^sweep s \(local\): 6 cells, 1 done, 1 running, 2 failed, 1 pending, 1 interrupted/,
    );
    match(
      text,
      /\n {2}001-seed-2 +interrupted +0% 0\/2,000 steps {2}job 7_1, checkpointed \(exit 75\)/,
    );
    match(text, /\n {2}003-seed-4 +failed .* ended without an exit status/);
    match(text, /\n {2}004-seed-5 +running +50% 1,000\/2,000 steps/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
