// The RWARE renderer on a known state, with a recording context: goals, shelves, requested
// shelves, robots with their numbers and headings, and a carried shelf under its carrier.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  RWARE_CELL,
  RWARE_RENDERER,
  RWARE_SHELF_COLORS,
  rwareGrid,
} from "../../../envs/rware/draw.ts";
import { packRwareStates } from "../../../envs/rware/env.ts";
import {
  RWARE_DIR,
  type RwareConfig,
  rwareLayout,
  type RwareState,
} from "../../../envs/rware/layout.ts";
import { cellCenter, cellOrigin } from "../../../envs/draw.ts";
import { findTask } from "../../../envs/registry.ts";
import { drawOne, rects, texts } from "../_draw_testing.ts";

const { spec } = findTask("rware-tiny-2ag");
const cfg = spec.config as unknown as RwareConfig;
const layout = rwareLayout(cfg);

/** Agent 0 at (0, 1) facing down, carrying shelf 1; agent 1 at (3, 2) facing right. */
function knownState(): RwareState {
  const shelves = layout.shelfHome.map((h) => ({ x: h.x, y: h.y }));
  shelves[0] = { x: 0, y: 1 };
  return {
    steps: 12,
    inactiveSteps: 0,
    episode: 2,
    totalSteps: 100,
    agents: [
      { x: 0, y: 1, dir: RWARE_DIR.down, carried: 1, hasDelivered: false },
      { x: 3, y: 2, dir: RWARE_DIR.right, carried: 0, hasDelivered: false },
    ],
    shelves,
    requestQueue: Array.from({ length: cfg.requestQueueSize }, (_, i) => i + 2),
  };
}

Deno.test("RWARE_RENDERER draws goals, shelves and requested shelves where they are", () => {
  const s = knownState();
  const { shapes } = drawOne(RWARE_RENDERER, spec, { state: packRwareStates(cfg, layout, [s]) });
  const g = rwareGrid();
  const goals = texts(shapes).filter((t) => t.text === "G");
  assertEquals(
    goals.map((t) => [t.x, t.y]),
    layout.goals.map((c) => {
      const p = cellCenter(g, c.y, c.x);
      return [p.x, p.y];
    }),
  );
  const at = (c: { x: number; y: number }) => {
    const o = cellOrigin(g, c.y, c.x);
    return [o.x + 2, o.y + 2, RWARE_CELL - 4, RWARE_CELL - 4];
  };
  const requested = rects(shapes, RWARE_SHELF_COLORS.requested);
  assertEquals(requested, s.requestQueue.map((id) => at(s.shelves[id - 1])));
  const plain = rects(shapes, RWARE_SHELF_COLORS.shelf);
  assertEquals(plain.length, s.shelves.length - s.requestQueue.length);
  assert(plain.some((r) => r.join() === at({ x: 0, y: 1 }).join()), "carried shelf at its carrier");
});

Deno.test("RWARE_RENDERER.stateWords() is the packed state's length", () => {
  const words = packRwareStates(cfg, layout, [knownState()]);
  assertEquals(RWARE_RENDERER.stateWords(spec), { state: words.length });
});

Deno.test("RWARE_RENDERER draws robots with their number, heading and a ring when carrying", () => {
  const s = knownState();
  const { shapes } = drawOne(RWARE_RENDERER, spec, { state: packRwareStates(cfg, layout, [s]) });
  const g = rwareGrid();
  const t = texts(shapes);
  s.agents.forEach((a, i) => {
    const c = cellCenter(g, a.y, a.x);
    assert(t.some((x) => x.text === String(i + 1) && x.x === c.x && x.y === c.y), `robot ${i}`);
  });
  const arcs = shapes.filter((d) => d.op === "arc");
  const rings = shapes.filter((d) => d.op === "stroke" && d.lineWidth === 3);
  assertEquals(arcs.length, 2);
  assertEquals(rings.length, 1, "one robot carries");
  // Heading ticks: agent 0 points down (+y), agent 1 right (+x).
  const ticks = shapes.filter((d) => d.op === "lineTo").slice(-2);
  const c0 = cellCenter(g, 1, 0), c1 = cellCenter(g, 2, 3);
  assert(Number(ticks[0].args[1]) > c0.y && Number(ticks[0].args[0]) === c0.x, "agent 0 down");
  assert(Number(ticks[1].args[0]) > c1.x && Number(ticks[1].args[1]) === c1.y, "agent 1 right");
  assert(t[0].text.startsWith("step 12 · episode 2 · carrying 1/2"), t[0].text);
});
