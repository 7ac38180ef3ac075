// Every registered environment family honours the VecEnv contract of envs/env.ts.
import type { EnvDef } from "../../envs/env.ts";
import { ENVS, findTask } from "../../envs/registry.ts";
import { readTensors } from "../../engine/readback.ts";
import { sizeOf } from "../../engine/tensor.ts";
import { gpuTest } from "../_testing.ts";

for (const [family, def] of Object.entries(ENVS) as [string, EnvDef][]) {
  gpuTest(
    `${family}: buffers have the declared shapes, state exports and renders`,
    async (engine) => {
      const name = def.tasks[0];
      const { spec } = findTask(name);
      if (spec.family !== def.family) throw new Error(`${name} resolved to ${spec.family}`);
      const numEnvs = 3, A = spec.numAgents;
      const env = await def.create(engine, spec, { numEnvs, seed: 5 });
      const b = env.buffers;
      const want: [string, number, number][] = [
        ["obs", b.obs.size, A * numEnvs * sizeOf(spec.obsShape)],
        ["terminalObs", b.terminalObs.size, A * numEnvs * sizeOf(spec.obsShape)],
        ["actions", b.actions.size, A * numEnvs],
        ["reward", b.reward.size, A * numEnvs],
        ["terminated", b.terminated.size, numEnvs],
        ["truncated", b.truncated.size, numEnvs],
        ["episodeStep", b.episodeStep.size, numEnvs],
      ];
      for (const [n, got, w] of want) {
        if (got !== w) throw new Error(`${name}: ${n} has ${got}, want ${w}`);
      }
      if (b.obs.dtype !== spec.obsDType) throw new Error(`${name}: obs dtype ${b.obs.dtype}`);
      const enc = engine.encoder();
      env.encodeReset(enc);
      env.encodeStep(enc);
      engine.submit(enc);
      const [steps] = await readTensors(engine, [b.episodeStep] as const);
      if (!steps.every((s) => s === 1)) {
        throw new Error(`${name}: episodeStep after one step [${steps}]`);
      }
      const state = env.stateTensors();
      if (Object.keys(state).length === 0) throw new Error(`${name}: no state tensors`);
      const text = await env.render(numEnvs - 1);
      if (text.split("\n").length < 2) throw new Error(`${name}: render gave "${text}"`);
      let msg = "";
      try {
        await env.render(numEnvs);
      } catch (e) {
        msg = (e as Error).message;
      }
      if (!msg) throw new Error(`${name}: render accepted an env index out of range`);
    },
  );
}

Deno.test("findTask() names the families when a task is unknown", () => {
  let msg = "";
  try {
    findTask("no-such-task");
  } catch (e) {
    msg = (e as Error).message;
  }
  for (const f of Object.keys(ENVS)) if (!msg.includes(f)) throw new Error(msg);
});
