// The drawing helpers and the recording context every renderer test and replay uses.
import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { agentLetter, drawDisc, envWords, sliceEnvFrame } from "../../envs/draw.ts";
import { createRecordingContext, playDrawCommands } from "../../envs/draw_recorder.ts";
import { findRenderer, RENDERERS } from "../../envs/renderers.ts";
import { ENVS, findTask } from "../../envs/registry.ts";

Deno.test("createRecordingContext() records property sets and calls, and playDrawCommands() repeats them", () => {
  const a = createRecordingContext();
  a.ctx.fillStyle = "#123456";
  a.ctx.fillRect(1, 2.004, 3, 4);
  drawDisc(a.ctx, { x: 5, y: 6, radius: 2, fill: "#ff0000", stroke: "#000000" });
  assertEquals(a.ctx.fillStyle, "#ff0000", "reads give the last value set");
  assertEquals(a.commands.slice(0, 3), [
    ["fillStyle", "#123456"],
    ["fillRect", 1, 2, 3, 4],
    ["fillStyle", "#ff0000"],
  ]);
  const b = createRecordingContext();
  playDrawCommands(b.ctx, a.commands);
  assertEquals(b.commands, a.commands);
});

Deno.test("envWords() and sliceEnvFrame() cut one env out of a batch", () => {
  const { spec } = findTask("Foraging-5x5-2p-1f");
  const frame = {
    spec,
    state: { state: new Uint32Array([1, 2, 3, 4, 5, 6]) },
    numEnvs: 3,
    envIndex: 1,
  };
  assertEquals([...envWords(frame, "state")], [3, 4]);
  assertEquals(sliceEnvFrame(frame).state, { state: new Uint32Array([3, 4]) });
  throws(() => envWords(frame, "cells"), /state "cells" is missing \(have state\)/);
  throws(() => envWords({ ...frame, numEnvs: 4 }, "state"), /Cannot draw env 1 of 4/);
});

Deno.test("RENDERERS covers every global env family, named by its family", () => {
  for (const [k, r] of Object.entries(RENDERERS)) assertEquals(r.family, k);
  const drawn = Object.keys(ENVS).filter((f) => findRenderer(f));
  assertEquals(drawn.sort(), ["lbf", "pursuit", "rware", "traffic", "warehouse"]);
  assertEquals(findRenderer("traffic-local"), null);
  assertEquals([agentLetter(0), agentLetter(25), agentLetter(26)], ["A", "Z", "A1"]);
});
