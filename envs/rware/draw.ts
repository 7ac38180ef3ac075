/**
 * The RWARE picture (as `RwareEnv.render` writes it in text): highways light, shelf homes
 * outlined, goals dark with `G`; shelves brown, requested shelves orange; robots as coloured
 * discs with their number (1 = agent 0) and a heading tick, a carried shelf drawn under its
 * carrier with a thick ring around the robot.
 *
 * @module
 */
import type { EnvSpec } from "../env.ts";
import {
  agentColor,
  cellCenter,
  cellOrigin,
  type DrawContext,
  drawDisc,
  drawFrameStart,
  drawGrid,
  drawLabel,
  type EnvRenderer,
  type EnvStateFrame,
  envWords,
  fillCell,
  type GridLayout,
  HEADER_HEIGHT,
} from "../draw.ts";
import { rwareStateStride, unpackRwareStates } from "./env.ts";
import { type RwareConfig, type RwareLayout, rwareLayout } from "./layout.ts";

/** Side of a cell [px]. */
export const RWARE_CELL = 30;
/** Colour of a shelf, of a requested shelf. */
export const RWARE_SHELF_COLORS = Object.freeze({ shelf: "#a0703c", requested: "#f08c00" });
/** Heading unit vectors (x, y) by `RWARE_DIR` (up, down, left, right). */
const HEADING = [[0, -1], [0, 1], [-1, 0], [1, 0]] as const;

/** Where the warehouse lies on the canvas. */
export function rwareGrid(): GridLayout {
  return { left: 4, top: HEADER_HEIGHT, cell: RWARE_CELL };
}

const layouts = new WeakMap<object, RwareLayout>();
function layoutOf(spec: EnvSpec): RwareLayout {
  let l = layouts.get(spec.config);
  if (!l) {
    l = rwareLayout(spec.config as unknown as RwareConfig);
    layouts.set(spec.config, l);
  }
  return l;
}

/** Draws RWARE states (state entry `state`). */
export const RWARE_RENDERER: EnvRenderer = Object.freeze({
  family: "rware",
  tensors: Object.freeze(["state"]),
  stateWords: (spec: EnvSpec) => ({
    state: rwareStateStride(spec.config as unknown as RwareConfig, layoutOf(spec)),
  }),
  size(spec: EnvSpec) {
    const l = layoutOf(spec);
    return { width: l.cols * RWARE_CELL + 8, height: HEADER_HEIGHT + l.rows * RWARE_CELL + 4 };
  },
  draw(ctx: DrawContext, frame: EnvStateFrame) {
    const cfg = frame.spec.config as unknown as RwareConfig;
    const layout = layoutOf(frame.spec);
    const [s] = unpackRwareStates(cfg, layout, envWords(frame, "state"));
    const { width, height } = RWARE_RENDERER.size(frame.spec);
    const g = rwareGrid();
    const carrying = s.agents.filter((a) => a.carried !== 0).length;
    drawFrameStart(ctx, {
      width,
      height,
      text: `step ${s.steps} · episode ${s.episode} · carrying ${carrying}/${s.agents.length}`,
    });
    drawGrid(ctx, g, { rows: layout.rows, cols: layout.cols, fill: "#f3f5f8", line: "#dfe3ea" });
    ctx.strokeStyle = "#c9b79c";
    ctx.lineWidth = 1;
    for (const h of layout.shelfHome) {
      const o = cellOrigin(g, h.y, h.x);
      ctx.strokeRect(o.x + 3, o.y + 3, g.cell - 6, g.cell - 6);
    }
    for (const goal of layout.goals) {
      fillCell(ctx, g, { row: goal.y, col: goal.x, color: "#3a3f4b" });
      const c = cellCenter(g, goal.y, goal.x);
      drawLabel(ctx, "G", c.x, c.y, { color: "#ffffff", font: "bold 14px sans-serif" });
    }
    const requested = new Set(s.requestQueue);
    s.shelves.forEach((c, k) => {
      if (c.x < 0) return;
      const color = requested.has(k + 1) ? RWARE_SHELF_COLORS.requested : RWARE_SHELF_COLORS.shelf;
      fillCell(ctx, g, { row: c.y, col: c.x, color, inset: 2 });
    });
    s.agents.forEach((a, i) => {
      const c = cellCenter(g, a.y, a.x);
      const radius = g.cell * 0.32;
      drawDisc(ctx, {
        x: c.x,
        y: c.y,
        radius,
        fill: agentColor(i),
        stroke: a.carried ? "#111111" : "#ffffff",
        lineWidth: a.carried ? 3 : 1.5,
      });
      const [dx, dy] = HEADING[a.dir] ?? [0, 0];
      ctx.strokeStyle = "#111111";
      ctx.lineWidth = 2.5;
      ctx.beginPath();
      ctx.moveTo(c.x + dx * radius, c.y + dy * radius);
      ctx.lineTo(c.x + dx * (radius + 5), c.y + dy * (radius + 5));
      ctx.stroke();
      drawLabel(ctx, String(i + 1), c.x, c.y, { color: "#ffffff", font: "bold 12px sans-serif" });
    });
  },
});
