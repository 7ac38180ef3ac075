// The canvas replay page: frames drawn by the family's renderer, stored once per distinct
// command, repainted identically.
import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert/strict";
import { recordReplay, replayCanvasHtml } from "../../app/replay_html.ts";
import { findTask } from "../../envs/registry.ts";
import { type LbfConfig, packLbfStates } from "../../envs/lbf/state.ts";
import { LBF_RENDERER } from "../../envs/lbf/draw.ts";
import { createRecordingContext, playDrawCommands } from "../../envs/draw_recorder.ts";
import { CHROMIUM } from "../_chromium.ts";

const { spec } = findTask("Foraging-5x5-2p-1f");
const cfg = spec.config as unknown as LbfConfig;
const frame = (step: number, col: number) => ({
  step,
  reward: [step / 10, 0],
  state: {
    state: packLbfStates(cfg, [{
      step,
      episode: 0,
      foodSpawned: 1,
      scores: [0, 0],
      players: [{ row: 0, col, level: 1 }, { row: 4, col: 4, level: 2 }],
      food: [{ row: 2, col: 2, level: 1 }],
    }]),
  },
});

Deno.test("recordReplay() stores each distinct command once and every frame's list of them", () => {
  const frames = [frame(0, 0), frame(1, 1), frame(2, 1)];
  const r = recordReplay(spec, frames);
  assertEquals({ width: r.width, height: r.height }, LBF_RENDERER.size(spec));
  assertEquals(r.frames.map((f) => f.step), [0, 1, 2]);
  const unique = new Set(r.table.map((c) => JSON.stringify(c)));
  assertEquals(unique.size, r.table.length);
  // Repainting a frame's commands gives what the renderer draws.
  const direct = createRecordingContext();
  LBF_RENDERER.draw(direct.ctx, { spec, state: frames[1].state, numEnvs: 1, envIndex: 0 });
  const replayed = createRecordingContext();
  playDrawCommands(replayed.ctx, r.frames[1].ops.map((i) => r.table[i]));
  assertEquals(replayed.commands, direct.commands);
  // The grid and food are shared: far fewer distinct commands than commands.
  const total = r.frames.reduce((n, f) => n + f.ops.length, 0);
  assert(r.table.length < total / 2, `${r.table.length} distinct of ${total}`);
  throws(() => recordReplay(findTask("traffic-local-4").spec, []), /has no renderer/);
});

Deno.test({
  name: "replayCanvasHtml() is a self-contained page that paints its frames in Chromium",
  ignore: CHROMIUM === null,
  async fn() {
    const html = replayCanvasHtml({
      spec,
      frames: [frame(0, 0), frame(1, 1)],
      title: "LBF <replay>",
      summary: "two frames",
    });
    assert(html.includes("<title>LBF &lt;replay&gt;</title>"));
    assert(!/<script[^>]+src=/.test(html) && !/https?:\/\//.test(html), "no external resource");
    const dir = await Deno.makeTempDir({ prefix: "marl-replay-" });
    try {
      await Deno.writeTextFile(`${dir}/replay.html`, html);
      const out = await new Deno.Command(CHROMIUM!, {
        args: [
          "--headless=new",
          "--no-sandbox",
          "--disable-gpu",
          `--user-data-dir=${dir}/profile`,
          "--dump-dom",
          `file://${dir}/replay.html`,
        ],
        stdout: "piped",
        stderr: "null",
      }).output();
      const dom = new TextDecoder().decode(out.stdout);
      assert(/step 0 \/ 1 · reward 0\.000, 0\.000/.test(dom), "the first frame is shown");
      assert(/canvas id="canvas" width="\d+"/.test(dom), "the canvas was sized");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
