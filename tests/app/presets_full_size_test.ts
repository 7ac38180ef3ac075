// Every DIALS-family preset builds at its full size within the WebGPU default limits (8 storage
// buffers a kernel, 128 MiB a binding): the 100-agent presets needed the AIP's test pass in chunks
// and its GRU minibatch in micro-batches. Build only: the one-iteration smoke test of every preset
// (train_test.ts) shrinks the DIALS datasets and networks to keep the suite's time.
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { listPresets } from "../../app/presets.ts";
import { parseConfig } from "../../app/config.ts";
import { buildTrainer } from "../../app/train_loop.ts";
import { readTensors } from "../../engine/readback.ts";
import { PORTABLE_STORAGE_BINDING_BYTES } from "../../engine/limits.ts";
import { gpuTest } from "../_testing.ts";

const DIALS_FAMILY = /^\s*name:\s*(dials|untrained_dials|ppo_gs)\s*$/m;

gpuTest(
  "every DIALS-family preset builds at full size within the default limits",
  async (engine) => {
    assertEquals(engine.limit("maxStorageBuffersPerShaderStage"), 8);
    // llvmpipe's binding limit is the WebGPU default; a larger adapter's would hide an overflow.
    if (engine.limit("maxStorageBufferBindingSize") > PORTABLE_STORAGE_BINDING_BYTES) {
      console.log(
        "adapter allows larger bindings: the 128 MiB limit is checked by the AIP planner",
      );
    }
    const built: string[] = [];
    for (const p of await listPresets()) {
      if (!DIALS_FAMILY.test(p.text)) continue;
      const cfg = await parseConfig(p.text, { source: p.name });
      const trainer = await buildTrainer(engine, cfg);
      const [first] = Object.values(trainer.stateTensors());
      await readTensors(engine, [first] as const); // flushes the build's work, surfacing its errors
      engine.throwIfError();
      built.push(p.name);
    }
    if (!built.includes("dials_warehouse_100") || !built.includes("dials_traffic_100")) {
      throw new Error(`the 100-agent presets were not built: ${built.join(", ")}`);
    }
    console.log(`built ${built.length} presets at full size`);
  },
);
