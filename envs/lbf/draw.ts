/**
 * The LBF picture (as `LbfEnv.render` writes it in text): the field as a grid; food as green
 * squares with their level; players as coloured discs with their letter (A = player 0) and
 * their level in the corner badge; players sharing a cell are drawn side by side.
 *
 * @module
 */
import type { EnvSpec } from "../env.ts";
import {
  agentColor,
  agentLetter,
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
import { type LbfConfig, lbfStateStride, unpackLbfStates } from "./state.ts";

/** Side of a cell [px]. */
export const LBF_CELL = 48;

/** Where the field lies on the canvas. */
export function lbfGrid(): GridLayout {
  return { left: 4, top: HEADER_HEIGHT, cell: LBF_CELL };
}

/** Draws LBF states (state entry `state`). */
export const LBF_RENDERER: EnvRenderer = Object.freeze({
  family: "lbf",
  tensors: Object.freeze(["state"]),
  stateWords: (spec: EnvSpec) => ({ state: lbfStateStride(spec.config as unknown as LbfConfig) }),
  size(spec: EnvSpec) {
    const cfg = spec.config as unknown as LbfConfig;
    return { width: cfg.cols * LBF_CELL + 8, height: HEADER_HEIGHT + cfg.rows * LBF_CELL + 4 };
  },
  draw(ctx: DrawContext, frame: EnvStateFrame) {
    const cfg = frame.spec.config as unknown as LbfConfig;
    const [s] = unpackLbfStates(cfg, envWords(frame, "state"));
    const { width, height } = LBF_RENDERER.size(frame.spec);
    const g = lbfGrid();
    drawFrameStart(ctx, {
      width,
      height,
      text: `step ${s.step} · episode ${s.episode} · food left ${s.food.length}`,
    });
    drawGrid(ctx, g, { rows: cfg.rows, cols: cfg.cols, fill: "#f4f1e8", line: "#d8d2c0" });
    for (const f of s.food) {
      fillCell(ctx, g, { row: f.row, col: f.col, color: "#3c9d3c", inset: 8 });
      const c = cellCenter(g, f.row, f.col);
      drawLabel(ctx, String(f.level), c.x, c.y, { color: "#ffffff", font: "bold 18px sans-serif" });
    }
    const byCell = new Map<number, number[]>();
    s.players.forEach((p, i) => {
      const k = p.row * cfg.cols + p.col;
      byCell.set(k, [...(byCell.get(k) ?? []), i]);
    });
    for (const ids of byCell.values()) {
      ids.forEach((i, slot) => {
        const p = s.players[i];
        const o = cellOrigin(g, p.row, p.col);
        const share = g.cell / ids.length;
        const x = o.x + share * (slot + 0.5), y = o.y + g.cell / 2;
        const radius = Math.min(share / 2 - 2, g.cell * 0.36);
        drawDisc(ctx, { x, y, radius, fill: agentColor(i), stroke: "#222222", lineWidth: 1.5 });
        drawLabel(ctx, agentLetter(i), x, y, {
          color: "#ffffff",
          font: `bold ${Math.round(radius)}px sans-serif`,
        });
        const bx = x + radius * 0.75, by = y + radius * 0.75;
        drawDisc(ctx, { x: bx, y: by, radius: 8, fill: "#ffffff", stroke: "#222222" });
        drawLabel(ctx, String(p.level), bx, by, { color: "#222222", font: "bold 11px sans-serif" });
      });
    }
  },
});
