import { createFill } from "../../engine/ops/elementwise.ts";
import { readTensor } from "../../engine/readback.ts";
import { createTimestampPair, hasTimestamps } from "../../engine/timestamps.ts";
import { gpuTest } from "../_testing.ts";

gpuTest(
  "timestamp pairs land in a tensor with end >= begin, without awaiting in between",
  async (engine) => {
    if (!hasTimestamps(engine)) {
      let msg = "";
      try {
        createTimestampPair(engine, "t.clock");
      } catch (e) {
        msg = (e as Error).message;
      }
      if (!msg.includes("timestamp-query")) throw new Error(msg);
      return;
    }
    const pair = createTimestampPair(engine, "t.clock");
    const out = engine.tensor({ dtype: "f32", shape: [100_000], label: "t.out" });
    const fill = await createFill(engine, out, 3);
    const enc = engine.encoder();
    pair.begin(enc);
    for (let i = 0; i < 20; i++) fill.encode(enc);
    pair.end(enc);
    const reads = engine.stats.reads;
    engine.submit(enc);
    if (engine.stats.reads !== reads) throw new Error("recording timestamps read from the GPU");
    const s = await readTensor(engine, pair.stamps);
    const begin = BigInt(s[0]) + (BigInt(s[1]) << 32n), end = BigInt(s[2]) + (BigInt(s[3]) << 32n);
    if (!(end >= begin && begin > 0n)) throw new Error(`timestamps begin ${begin}, end ${end}`);
  },
);
