import { deepStrictEqual as assertEquals, ok as assert, rejects, throws } from "node:assert/strict";
import {
  checkpointTensors,
  decodeSafetensors,
  encodeSafetensors,
  readCheckpoint,
  restoreCheckpoint,
  saveCheckpoint,
  writeFileAtomic,
} from "../../app/checkpoint.ts";
import { validateConfig } from "../../app/config.ts";
import { RANDOM } from "../../algorithms/random_policy.ts";
import { SEAC, SEAC_DEFAULTS } from "../../algorithms/seac/mod.ts";
import { readTensors } from "../../engine/readback.ts";
import { assertExact, gpuTest } from "../_testing.ts";

Deno.test("encodeSafetensors() writes the safetensors layout byte for byte", () => {
  const bytes = encodeSafetensors({
    tensors: {
      b: { dtype: "u8", shape: [3], data: new Uint8Array([1, 2, 255]) },
      a: { dtype: "f32", shape: [1, 2], data: new Float32Array([1.5, -2]) },
    },
    metadata: { note: "x" },
  });
  const view = new DataView(bytes.buffer);
  const n = Number(view.getBigUint64(0, true));
  assertEquals(n % 8, 0, "header padded to 8 bytes");
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  assertEquals(header, {
    __metadata__: { note: "x" },
    a: { dtype: "F32", shape: [1, 2], data_offsets: [0, 8] },
    b: { dtype: "U8", shape: [3], data_offsets: [8, 11] },
  });
  // 1.5f = 0x3fc00000, -2f = 0xc0000000, little-endian; then the u8 bytes.
  assertEquals([...bytes.subarray(8 + n)], [0, 0, 0xc0, 0x3f, 0, 0, 0, 0xc0, 1, 2, 255]);
  assertEquals(bytes.length, 8 + n + 11);
});

Deno.test("decodeSafetensors() round-trips every dtype and rejects broken files", () => {
  const tensors = {
    f: { dtype: "f32" as const, shape: [2, 3], data: new Float32Array([0, 1, -1, 0.5, 1e-30, 3]) },
    u: { dtype: "u32" as const, shape: [2], data: new Uint32Array([0, 4294967295]) },
    i: { dtype: "i32" as const, shape: [1, 1, 2], data: new Int32Array([-7, 9]) },
    b: { dtype: "u8" as const, shape: [5], data: new Uint8Array([9, 8, 7, 6, 5]) },
  };
  const got = decodeSafetensors(encodeSafetensors({ tensors, metadata: { k: "v" } }));
  assertEquals(got, { tensors, metadata: { k: "v" } });
  throws(
    () => decodeSafetensors(new Uint8Array(4), "t"),
    /Cannot read checkpoint "t": file has 4 bytes/,
  );
  const bad = encodeSafetensors({ tensors, metadata: {} });
  throws(() => decodeSafetensors(bad.subarray(0, bad.length - 1), "t"), /do not fit its shape/);
  throws(
    () =>
      encodeSafetensors({
        tensors: { x: { dtype: "f32", shape: [3], data: new Float32Array(2) } },
        metadata: {},
      }),
    /shape \[3\] has 3 elements, data has 2/,
  );
});

Deno.test("writeFileAtomic() replaces the file and leaves the old one when writing fails", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/ckpt.safetensors`;
    await writeFileAtomic(path, new TextEncoder().encode("old"));
    await writeFileAtomic(path, new TextEncoder().encode("new contents"));
    assertEquals(await Deno.readTextFile(path), "new contents");
    const failing = {
      length: 10,
      subarray() {
        throw new Error("disk full");
      },
    } as unknown as Uint8Array;
    await rejects(() => writeFileAtomic(path, failing), /disk full/);
    assertEquals(await Deno.readTextFile(path), "new contents", "the last good file survives");
    await Deno.mkdir(`${dir}/taken/inner`, { recursive: true });
    await rejects(() => writeFileAtomic(`${dir}/taken`, new Uint8Array(4)));
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assertEquals(names.sort(), ["ckpt.safetensors", "taken"], "no temp files left behind");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

gpuTest(
  "saveCheckpoint() and restoreCheckpoint() carry the random baseline's state exactly",
  async (engine) => {
    const dir = await Deno.makeTempDir();
    try {
      const config = validateConfig({
        seed: 5,
        numEnvs: 13,
        totalSteps: 1300,
        env: "Foraging-8x8-2p-2f-coop",
        algo: { name: "random" },
        log: { interval: 130, checkpointEvery: 0 },
      });
      const a = await RANDOM.create(engine, config, {});
      a.run(37);
      const path = `${dir}/c.safetensors`;
      await saveCheckpoint(engine, { path, trainer: a, config });
      const ckpt = await readCheckpoint(path);
      assertEquals(ckpt.config, JSON.parse(JSON.stringify(config)));
      assertEquals(ckpt.hostState, { iterations: 37 });
      assert("env.state" in ckpt.tensors && "trainer.policy.counter" in ckpt.tensors);
      assertEquals([...ckpt.tensors["trainer.policy.counter"].data], [37]);

      const b = await RANDOM.create(engine, config, {});
      restoreCheckpoint(engine, { trainer: b, checkpoint: ckpt });
      assertEquals(b.envSteps, 37 * 13);
      a.run(11);
      b.run(11);
      const names = Object.keys(a.stateTensors());
      const envNames = Object.keys(a.env.stateTensors());
      const got = await readTensors(engine, [
        ...names.map((n) => b.stateTensors()[n]),
        ...envNames.map((n) => b.env.stateTensors()[n]),
        b.env.buffers.actions,
      ]);
      const want = await readTensors(engine, [
        ...names.map((n) => a.stateTensors()[n]),
        ...envNames.map((n) => a.env.stateTensors()[n]),
        a.env.buffers.actions,
      ]);
      [...names, ...envNames, "actions"].forEach((n, i) => assertExact(got[i], want[i], n));
      await rejects(
        async () => {
          const other = await readCheckpoint(path);
          delete other.tensors["env.state"];
          restoreCheckpoint(engine, { trainer: b, checkpoint: other });
        },
        /Cannot restore checkpoint: "env.state" is missing/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

gpuTest(
  "checkpointTensors() keeps the trainer's env.* names, prefixes the rest and stores each tensor once",
  async (engine) => {
    const run = { seed: 1, numEnvs: 2, totalSteps: 100, env: "Foraging-5x5-2p-1f" };
    const trainer = await SEAC.create(engine, run, { ...SEAC_DEFAULTS, hidden: 8 });
    const named = checkpointTensors(trainer);
    const names = Object.keys(named);
    assert(names.includes("env.obs") && names.includes("env.state"), names.join(", "));
    assert(names.includes("trainer.net.params"), names.join(", "));
    assert(names.every((n) => n.startsWith("env.") || n.startsWith("trainer.")), names.join(", "));
    assert(!names.some((n) => n.startsWith("trainer.env.")), "env state is not listed twice");
    assertEquals(new Set(Object.values(named)).size, names.length, "no tensor is stored twice");
    assertEquals(named["env.obs"], trainer.env.buffers.obs);
  },
);
