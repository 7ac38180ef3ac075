// The traffic renderer on known states, with a recording context: vehicles on their lane cells
// coloured by speed, and the signal of every approach.
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  approachColor,
  junctionCenter,
  laneCell,
  TRAFFIC_COLORS,
  TRAFFIC_RENDERER,
  trafficLayout,
} from "../../../envs/traffic/draw.ts";
import { packTrafficGs } from "../../../envs/traffic/state.ts";
import type { TrafficConfig, TrafficGsState } from "../../../envs/traffic/reference.ts";
import { HEADER_HEIGHT } from "../../../envs/draw.ts";
import { findTask } from "../../../envs/registry.ts";
import { drawOne, rects, texts } from "../_draw_testing.ts";

const { spec } = findTask("traffic-4");
const cfg = spec.config as unknown as TrafficConfig;

function knownState(): TrafficGsState {
  const A = cfg.gridSize ** 2;
  const lanes = Array.from({ length: 4 * A }, () => [] as { pos: number; speed: number }[]);
  lanes[0] = [{ pos: 39, speed: 0 }]; // junction 0, from the west, at the stop line
  lanes[4 * 3 + 1] = [{ pos: 10, speed: 4 }]; // junction 3, from the south
  return {
    junctions: Array.from({ length: A }, () => ({
      signal: { dir: 0, yellow: 0, timer: 0 },
      t: 17,
      episode: 2,
      globalStep: 40,
    })),
    lanes,
    backlog: new Array(4 * A).fill(0),
  };
}

/** The state entries of one env, as the renderer reads them. */
function words(s: TrafficGsState): Record<string, Uint32Array> {
  const { cells, backlog, junctions } = packTrafficGs(cfg, [s]);
  return { cells, backlog, junctions };
}

Deno.test("TRAFFIC_RENDERER.stateWords() are the packed entries' lengths", () => {
  const w = words(knownState());
  assertEquals(TRAFFIC_RENDERER.stateWords(spec), {
    cells: w.cells.length,
    backlog: w.backlog.length,
    junctions: w.junctions.length,
  });
});

Deno.test("trafficLayout() puts row 0 at the bottom and lanes between junctions", () => {
  const l = trafficLayout(2);
  const c0 = junctionCenter(l, 0), c2 = junctionCenter(l, 2), c1 = junctionCenter(l, 1);
  assertEquals(c2.x, c0.x);
  assertEquals(c0.y - c2.y, l.pitch, "junction 2 (row 1) is above junction 0");
  assertEquals(c1.x - c0.x, l.pitch);
  // The lane from the west of junction 1 starts where junction 0's box ends.
  assertEquals(laneCell(l, c1, 0, 0).x, c0.x + l.box / 2);
  assertEquals(l.height, HEADER_HEIGHT + l.width);
});

Deno.test("TRAFFIC_RENDERER draws vehicles on their lane cells, coloured by speed", () => {
  const { shapes } = drawOne(TRAFFIC_RENDERER, spec, words(knownState()));
  const l = trafficLayout(cfg.gridSize);
  const stopped = rects(shapes, TRAFFIC_COLORS.speed[0]);
  const f = laneCell(l, junctionCenter(l, 0), 0, 39), b = laneCell(l, junctionCenter(l, 0), 0, 38);
  assertEquals(stopped, [[b.x + 0.5, b.y + 0.5, f.x + f.w - b.x - 1, f.h - 1]]);
  const fast = rects(shapes, TRAFFIC_COLORS.speed[4]);
  const ff = laneCell(l, junctionCenter(l, 3), 1, 10), fb = laneCell(l, junctionCenter(l, 3), 1, 9);
  assertEquals(fast, [[ff.x + 0.5, ff.y + 0.5, ff.w - 1, fb.y + fb.h - ff.y - 1]]);
  assertEquals(texts(shapes)[0].text, "step 17 · episode 2 · vehicles 2");
});

Deno.test("approachColor() shows N–S green, E–W red, and yellow for the previous green", () => {
  const ns = { dir: 0, yellow: 0, timer: 0 };
  assertEquals([0, 1, 2, 3].map((a) => approachColor(ns, a)), [
    TRAFFIC_COLORS.red,
    TRAFFIC_COLORS.green,
    TRAFFIC_COLORS.red,
    TRAFFIC_COLORS.green,
  ]);
  // Switching to E–W: N–S shows yellow, E–W still red.
  const toEw = { dir: 1, yellow: 1, timer: 1 };
  assertEquals([0, 1, 2, 3].map((a) => approachColor(toEw, a)), [
    TRAFFIC_COLORS.red,
    TRAFFIC_COLORS.yellow,
    TRAFFIC_COLORS.red,
    TRAFFIC_COLORS.yellow,
  ]);
  const { shapes } = drawOne(TRAFFIC_RENDERER, spec, words(knownState()));
  assertEquals(rects(shapes, TRAFFIC_COLORS.green).length, 2 * cfg.gridSize ** 2);
});
