// Checkpoints as bytes (browsers): the same format as app/checkpoint.ts, policy files, and loading
// a policy into a trainer with another number of envs.
import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert/strict";
import {
  CHECKPOINT_FORMAT,
  decodeCheckpoint,
  encodeCheckpoint,
  loadPolicy,
  namedCheckpointTensors,
} from "../../app/checkpoint_bytes.ts";
import * as disk from "../../app/checkpoint.ts";
import { decodeSafetensors, encodeSafetensors } from "../../app/safetensors.ts";
import { extractPolicy } from "../../app/extract_policy.ts";
import { playgroundConfig } from "../../app/playground_config.ts";
import { buildTrainer } from "../../app/train_loop.ts";
import { readTensors } from "../../engine/readback.ts";
import { gpuTest } from "../_testing.ts";

Deno.test("CHECKPOINT_FORMAT and the safetensors codec are those of app/checkpoint.ts", () => {
  assertEquals(CHECKPOINT_FORMAT, disk.CHECKPOINT_FORMAT);
  const data = {
    tensors: {
      w: { dtype: "f32" as const, shape: [2, 2], data: new Float32Array([1, -2, 3.5, 0]) },
      c: { dtype: "u32" as const, shape: [1], data: new Uint32Array([7]) },
    },
    metadata: { format: CHECKPOINT_FORMAT, config: "{}", hostState: "{}" },
  };
  const bytes = encodeSafetensors(data);
  assertEquals(bytes, disk.encodeSafetensors(data), "byte for byte");
  assertEquals(disk.decodeSafetensors(bytes), decodeSafetensors(bytes));
  const back = decodeCheckpoint(bytes, "x.safetensors");
  assertEquals(back.config, {});
  assertEquals([...back.tensors.w.data], [1, -2, 3.5, 0]);
  throws(
    () => decodeCheckpoint(encodeSafetensors({ tensors: {}, metadata: { format: "other" } }), "o"),
    /Cannot read checkpoint "o": metadata format is "other", expected "marl-webgpu\/1"/,
  );
});

gpuTest(
  "encodeCheckpoint() writes what readCheckpoint() reads, and policy files hold only the weights",
  async (engine) => {
    const config = playgroundConfig({ algo: "seac", env: "Foraging-5x5-2p-1f", numEnvs: 4 });
    const trainer = await buildTrainer(engine, config);
    trainer.run(2);
    const full = await encodeCheckpoint(engine, { trainer, config });
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeFile(`${dir}/c.safetensors`, full);
      const read = await disk.readCheckpoint(`${dir}/c.safetensors`);
      assertEquals(
        Object.keys(read.tensors).sort(),
        Object.keys(namedCheckpointTensors(trainer)).sort(),
      );
      assertEquals(read.hostState, trainer.hostState());
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    const policy = await encodeCheckpoint(engine, { trainer, config, policyOnly: true });
    assertEquals(Object.keys(decodeCheckpoint(policy).tensors), ["trainer.net.params"]);
    assert(policy.length < full.length / 2, `policy ${policy.length} bytes, full ${full.length}`);
    const counter = Object.values(trainer.stateTensors()).find((t) => t.dtype === "u32")!;
    const extra = decodeCheckpoint(
      await encodeCheckpoint(engine, {
        trainer,
        config,
        policyOnly: true,
        tensors: { "eval.counter": counter },
        metadata: { evalState: "{}" },
      }),
    );
    assertEquals(Object.keys(extra.tensors).sort(), ["eval.counter", "trainer.net.params"]);
    assertEquals(extra.metadata.evalState, "{}");
    const extracted = await extractPolicy(full, { engine });
    assertEquals(extracted.names, ["trainer.net.params"]);
    assertEquals(decodeCheckpoint(extracted.bytes).tensors, decodeCheckpoint(policy).tensors);
  },
);

gpuTest(
  "loadPolicy() writes the weights into a trainer with other numEnvs, and names what is missing",
  async (engine) => {
    const config = playgroundConfig({ algo: "iql", env: "Foraging-5x5-2p-1f", numEnvs: 4 });
    const a = await buildTrainer(engine, config);
    a.run(3);
    const bytes = await encodeCheckpoint(engine, { trainer: a, config, policyOnly: true });
    const other = playgroundConfig({ algo: "iql", env: "Foraging-5x5-2p-1f", numEnvs: 2, seed: 9 });
    const b = await buildTrainer(engine, other);
    const { loaded } = loadPolicy(engine, { trainer: b, checkpoint: decodeCheckpoint(bytes) });
    assertEquals(loaded, Object.keys(namedCheckpointTensors(b, { policyOnly: true })));
    const pa = Object.values(a.policyTensors!())[0], pb = Object.values(b.policyTensors!())[0];
    const [wa, wb] = await readTensors(engine, [pa, pb]);
    assertEquals(wb, wa);
    const wrong = playgroundConfig({
      algo: "iql",
      env: "Foraging-5x5-2p-1f",
      numEnvs: 2,
      algoOverrides: { dense: [32] },
    });
    const c = await buildTrainer(engine, wrong);
    throws(
      () => loadPolicy(engine, { trainer: c, checkpoint: decodeCheckpoint(bytes) }),
      /Cannot load policy: "trainer\.iql\.net\.params" is f32 \[/,
    );
  },
);
