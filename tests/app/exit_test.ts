// A training process exits cleanly, every time: no abort in the WebGPU teardown at process exit
// ("double free or corruption", a Rust backtrace), seen before engines shared one device
// (engine/device.ts SHARED_DEVICES).
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { SKIP_GPU } from "../_testing.ts";

const REPO = new URL("../../", import.meta.url).pathname;
const RUNS = 20;
const CRASH = /double free|corrupt|panicked|Stack backtrace|Aborted|SIGABRT|Segmentation/i;

Deno.test({
  name: `a training run exits with status 0 and no teardown crash, ${RUNS} times in a row`,
  ignore: SKIP_GPU,
  async fn() {
    const root = await Deno.makeTempDir();
    const bad: string[] = [];
    try {
      for (let i = 0; i < RUNS; i++) {
        const out = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "--allow-read",
            "--allow-write",
            "--allow-env",
            "--allow-net",
            "app/run.ts",
            "seac_quick",
            "--root",
            root,
            `--name=exit-${i}`,
            "--numEnvs=4",
            "--totalSteps=400",
            "--log.interval=200",
            "--log.checkpointEvery=400",
            "--plain",
          ],
          cwd: REPO,
          stdout: "piped",
          stderr: "piped",
          env: { NO_COLOR: "1" },
        }).output();
        const stderr = new TextDecoder().decode(out.stderr);
        if (out.code !== 0 || out.signal !== null || CRASH.test(stderr)) {
          bad.push(`run ${i}: code ${out.code}, signal ${out.signal}: ${stderr.slice(-300)}`);
        }
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
    assertEquals(bad, []);
  },
});
