/**
 * The Pursuit picture (as `PursuitEnv.render` writes it in text, rows are y and columns x):
 * obstacles dark; evaders as red dots; pursuers as blue discs with their agent number, several
 * on one cell as one disc with the count.
 *
 * @module
 */
import type { EnvSpec } from "../env.ts";
import {
  cellCenter,
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
import {
  type PursuitConfig,
  pursuitObstacles,
  pursuitStateStride,
  unpackPursuitStates,
} from "./state.ts";

/** Side of a cell [px]. */
export const PURSUIT_CELL = 28;
/** Colours of pursuers and evaders. */
export const PURSUIT_COLORS = Object.freeze({ pursuer: "#1f5fbf", evader: "#d62728" });

/** Where the map lies on the canvas (row = y, column = x). */
export function pursuitGrid(): GridLayout {
  return { left: 4, top: HEADER_HEIGHT, cell: PURSUIT_CELL };
}

/** Draws Pursuit states (state entry `state`). */
export const PURSUIT_RENDERER: EnvRenderer = Object.freeze({
  family: "pursuit",
  tensors: Object.freeze(["state"]),
  stateWords: (spec: EnvSpec) => ({
    state: pursuitStateStride(spec.config as unknown as PursuitConfig),
  }),
  size(spec: EnvSpec) {
    const cfg = spec.config as unknown as PursuitConfig;
    return {
      width: cfg.xSize * PURSUIT_CELL + 8,
      height: HEADER_HEIGHT + cfg.ySize * PURSUIT_CELL + 4,
    };
  },
  draw(ctx: DrawContext, frame: EnvStateFrame) {
    const cfg = frame.spec.config as unknown as PursuitConfig;
    const [s] = unpackPursuitStates(cfg, envWords(frame, "state"));
    const { width, height } = PURSUIT_RENDERER.size(frame.spec);
    const g = pursuitGrid();
    drawFrameStart(ctx, {
      width,
      height,
      text: `cycle ${s.frames} · episode ${s.episode} · evaders left ${s.evaders.length}`,
    });
    drawGrid(ctx, g, { rows: cfg.ySize, cols: cfg.xSize, fill: "#f5f5f0", line: "#dddddd" });
    const walls = pursuitObstacles(cfg);
    for (let x = 0; x < cfg.xSize; x++) {
      for (let y = 0; y < cfg.ySize; y++) {
        if (walls[x * cfg.ySize + y]) fillCell(ctx, g, { row: y, col: x, color: "#555555" });
      }
    }
    const evaders = new Map<number, number>();
    for (const e of s.evaders) {
      evaders.set(e.x * cfg.ySize + e.y, (evaders.get(e.x * cfg.ySize + e.y) ?? 0) + 1);
    }
    for (const [k, n] of evaders) {
      const c = cellCenter(g, k % cfg.ySize, Math.floor(k / cfg.ySize));
      drawDisc(ctx, { x: c.x, y: c.y, radius: g.cell * 0.22, fill: PURSUIT_COLORS.evader });
      if (n > 1) {
        drawLabel(ctx, String(n), c.x, c.y, { color: "#ffffff", font: "bold 9px sans-serif" });
      }
    }
    const pursuers = new Map<number, number[]>();
    s.pursuers.forEach((p, i) => {
      const k = p.x * cfg.ySize + p.y;
      pursuers.set(k, [...(pursuers.get(k) ?? []), i]);
    });
    for (const [k, ids] of pursuers) {
      const c = cellCenter(g, k % cfg.ySize, Math.floor(k / cfg.ySize));
      drawDisc(ctx, {
        x: c.x,
        y: c.y,
        radius: g.cell * 0.4,
        fill: PURSUIT_COLORS.pursuer,
        stroke: evaders.has(k) ? PURSUIT_COLORS.evader : "#ffffff",
        lineWidth: 2,
      });
      const text = ids.length === 1 ? String(ids[0] + 1) : `×${ids.length}`;
      drawLabel(ctx, text, c.x, c.y, { color: "#ffffff", font: "bold 11px sans-serif" });
    }
  },
});
