// The LBF renderer on known states, with a recording context: players, levels, food, header.
import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert/strict";
import { LBF_CELL, LBF_RENDERER, lbfGrid } from "../../../envs/lbf/draw.ts";
import { type LbfConfig, type LbfState, packLbfStates } from "../../../envs/lbf/state.ts";
import { cellCenter, cellOrigin } from "../../../envs/draw.ts";
import { createRecordingContext } from "../../../envs/draw_recorder.ts";
import { findTask } from "../../../envs/registry.ts";
import { discs, drawOne, r2, rects, texts } from "../_draw_testing.ts";

const { spec } = findTask("Foraging-8x8-2p-2f-coop");
const cfg = spec.config as unknown as LbfConfig;
const STATE: LbfState = {
  step: 7,
  episode: 3,
  foodSpawned: 4,
  scores: [0, 0],
  players: [{ row: 1, col: 2, level: 1 }, { row: 5, col: 6, level: 2 }],
  food: [{ row: 3, col: 3, level: 3 }],
};

Deno.test("LBF_RENDERER draws each player as a disc with its letter and level at its cell", () => {
  const { shapes } = drawOne(LBF_RENDERER, spec, { state: packLbfStates(cfg, [STATE]) });
  const g = lbfGrid();
  const t = texts(shapes);
  STATE.players.forEach((p, i) => {
    const c = cellCenter(g, p.row, p.col);
    const letter = t.find((x) => x.text === "AB"[i]);
    assert(letter, `letter of player ${i}`);
    assertEquals([letter.x, letter.y], [r2(c.x), r2(c.y)]);
    // The level badge sits in the lower right of the disc.
    const badge = t.find((x) => x.text === String(p.level) && x.x > c.x && x.y > c.y);
    assert(badge && badge.x < c.x + LBF_CELL / 2, `level badge of player ${i}`);
  });
  const players = discs(shapes).filter((d) => d.fill === "#1f77b4" || d.fill === "#d62728");
  assertEquals(players.length, 2);
});

Deno.test("LBF_RENDERER draws food as a green square with its level, and the header", () => {
  const { shapes } = drawOne(LBF_RENDERER, spec, { state: packLbfStates(cfg, [STATE]) });
  const g = lbfGrid();
  const o = cellOrigin(g, 3, 3), c = cellCenter(g, 3, 3);
  assertEquals(rects(shapes, "#3c9d3c"), [[o.x + 8, o.y + 8, LBF_CELL - 16, LBF_CELL - 16]]);
  const t = texts(shapes);
  assert(t.some((x) => x.text === "3" && x.x === c.x && x.y === c.y), "food level at its centre");
  assert(t[0].text.startsWith("step 7 · episode 3 · food left 1"), t[0].text);
  const { width, height } = LBF_RENDERER.size(spec);
  assertEquals(rects(shapes, "#ffffff")[0], [0, 0, width, height], "background first");
});

Deno.test("LBF_RENDERER.stateWords() is the packed state's length", () => {
  assertEquals(LBF_RENDERER.stateWords(spec), { state: packLbfStates(cfg, [STATE]).length });
});

Deno.test("LBF_RENDERER puts players on one cell side by side", () => {
  const s = { ...STATE, players: [{ row: 2, col: 2, level: 1 }, { row: 2, col: 2, level: 1 }] };
  const { shapes } = drawOne(LBF_RENDERER, spec, { state: packLbfStates(cfg, [s]) });
  const t = texts(shapes);
  const a = t.find((x) => x.text === "A")!, b = t.find((x) => x.text === "B")!;
  const o = cellOrigin(lbfGrid(), 2, 2);
  assertEquals([a.x, b.x], [o.x + LBF_CELL / 4, o.x + (3 * LBF_CELL) / 4]);
  assertEquals(a.y, b.y);
});

Deno.test("LBF_RENDERER draws the chosen env of a batch", () => {
  const other = { ...STATE, step: 1, players: [...STATE.players].reverse() };
  const words = packLbfStates(cfg, [other, STATE]);
  const alone = drawOne(LBF_RENDERER, spec, { state: packLbfStates(cfg, [STATE]) }).commands;
  const rec = createRecordingContext();
  LBF_RENDERER.draw(rec.ctx, { spec, state: { state: words }, numEnvs: 2, envIndex: 1 });
  assertEquals(rec.commands, alone);
  throws(
    () => LBF_RENDERER.draw(rec.ctx, { spec, state: { state: words }, numEnvs: 2, envIndex: 2 }),
    /Cannot draw env 2 of 2/,
  );
});
