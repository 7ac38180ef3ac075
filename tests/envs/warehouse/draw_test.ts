// The warehouse renderer on a known state, with a recording context: cell kinds, items, learning
// robots with their letters and the scripted ring.
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  WAREHOUSE_COLORS,
  WAREHOUSE_RENDERER,
  warehouseGrid,
} from "../../../envs/warehouse/draw.ts";
import {
  packWarehouseStates,
  type WarehouseConfig,
  warehouseGridSize,
  warehouseLearningRobot,
  warehouseRobots,
  type WarehouseState,
} from "../../../envs/warehouse/layout.ts";
import { cellCenter } from "../../../envs/draw.ts";
import { findTask } from "../../../envs/registry.ts";
import { discs, drawOne, rects, texts } from "../_draw_testing.ts";

const { spec } = findTask("warehouse-4");
const cfg = spec.config as unknown as WarehouseConfig;

/** Every robot at its region's centre; two items of ages 0 and 60. */
function knownState(): WarehouseState {
  const k = cfg.robotsPerSide;
  return {
    step: 5,
    episode: 0,
    counter: 5,
    robots: Array.from({ length: k * k }, (_, g) => ({
      row: 4 * Math.floor(g / k) + 2,
      col: 4 * (g % k) + 2,
    })),
    targets: new Array(k * k).fill(-1),
    items: [{ row: 0, col: 1, age: 60 }, { row: 4, col: 2, age: 0 }],
  };
}

Deno.test("WAREHOUSE_RENDERER.stateWords() is the packed state's length", () => {
  const words = packWarehouseStates(cfg, [knownState()]);
  assertEquals(WAREHOUSE_RENDERER.stateWords(spec), { state: words.length });
});

Deno.test("WAREHOUSE_RENDERER draws corners, shelf cells and items", () => {
  const s = knownState();
  const { shapes } = drawOne(WAREHOUSE_RENDERER, spec, { state: packWarehouseStates(cfg, [s]) });
  const side = (warehouseGridSize(cfg) + 3) / 4; // corners per side
  assertEquals(rects(shapes, WAREHOUSE_COLORS.corner).length, side * side);
  const n = warehouseGridSize(cfg);
  assertEquals(rects(shapes, WAREHOUSE_COLORS.shelf).length, 2 * n * side - 2 * side * side);
  const fresh = rects(shapes, WAREHOUSE_COLORS.item);
  const g = warehouseGrid(cfg), inset = g.cell * 0.2;
  assertEquals(fresh, [[
    g.left + 2 * g.cell + inset,
    g.top + 4 * g.cell + inset,
    g.cell - 2 * inset,
    g.cell - 2 * inset,
  ]]);
  assertEquals(texts(shapes)[0].text, "step 5 · episode 0 · items 2");
});

Deno.test("WAREHOUSE_RENDERER letters the learning robots and greys the ring", () => {
  const s = knownState();
  const { shapes } = drawOne(WAREHOUSE_RENDERER, spec, { state: packWarehouseStates(cfg, [s]) });
  const g = warehouseGrid(cfg);
  const learners = cfg.learningPerSide ** 2;
  const grey = discs(shapes).filter((d) => d.fill === WAREHOUSE_COLORS.scripted);
  assertEquals(grey.length, warehouseRobots(cfg) - learners);
  const t = texts(shapes);
  for (let a = 0; a < learners; a++) {
    const p = s.robots[warehouseLearningRobot(cfg, a)];
    const c = cellCenter(g, p.row, p.col);
    assertEquals(t.filter((x) => x.text === "ABCD"[a]).map((x) => [x.x, x.y]), [[c.x, c.y]]);
  }
});
