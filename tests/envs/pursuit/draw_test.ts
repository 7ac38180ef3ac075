// The Pursuit renderer on a known state, with a recording context: obstacles, evaders, pursuers
// (one disc with the count where several share a cell).
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { PURSUIT_COLORS, PURSUIT_RENDERER, pursuitGrid } from "../../../envs/pursuit/draw.ts";
import {
  packPursuitStates,
  type PursuitConfig,
  pursuitObstacles,
  type PursuitState,
} from "../../../envs/pursuit/state.ts";
import { cellCenter } from "../../../envs/draw.ts";
import { findTask } from "../../../envs/registry.ts";
import { discs, drawOne, rects, texts } from "../_draw_testing.ts";

const { spec } = findTask("pursuit");
const cfg = spec.config as unknown as PursuitConfig;

function knownState(): PursuitState {
  const pursuers = Array.from({ length: cfg.numPursuers }, (_, i) => ({ x: i, y: 0 }));
  pursuers[1] = { x: 0, y: 0 }; // shares pursuer 0's cell
  return {
    frames: 9,
    episode: 1,
    cycles: 40,
    pursuers,
    evaders: [{ id: 0, x: 15, y: 15 }, { id: 4, x: 2, y: 14 }],
  };
}

Deno.test("PURSUIT_RENDERER.stateWords() is the packed state's length", () => {
  const words = packPursuitStates(cfg, [knownState()]);
  assertEquals(PURSUIT_RENDERER.stateWords(spec), { state: words.length });
});

Deno.test("PURSUIT_RENDERER fills every obstacle cell of the map", () => {
  const { shapes } = drawOne(PURSUIT_RENDERER, spec, {
    state: packPursuitStates(cfg, [knownState()]),
  });
  const walls = pursuitObstacles(cfg).reduce((n, w) => n + w, 0);
  assertEquals(rects(shapes, "#555555").length, walls);
});

Deno.test("PURSUIT_RENDERER draws evaders and pursuers at (x, y), with counts on shared cells", () => {
  const s = knownState();
  const { shapes } = drawOne(PURSUIT_RENDERER, spec, { state: packPursuitStates(cfg, [s]) });
  const g = pursuitGrid();
  const evaders = discs(shapes).filter((d) => d.fill === PURSUIT_COLORS.evader);
  assertEquals(
    evaders.map((d) => [d.x, d.y]),
    s.evaders.map((e) => {
      const c = cellCenter(g, e.y, e.x);
      return [c.x, c.y];
    }),
  );
  const pursuers = discs(shapes).filter((d) => d.fill === PURSUIT_COLORS.pursuer);
  assertEquals(pursuers.length, cfg.numPursuers - 1, "two pursuers share one disc");
  const t = texts(shapes);
  const shared = cellCenter(g, 0, 0);
  assert(t.some((x) => x.text === "×2" && x.x === shared.x && x.y === shared.y), "count");
  const third = cellCenter(g, 0, 2);
  assert(t.some((x) => x.text === "3" && x.x === third.x && x.y === third.y), "pursuer 2");
  assert(t[0].text.startsWith("cycle 9 · episode 1 · evaders left 2"), t[0].text);
});
