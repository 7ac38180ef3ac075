/**
 * The warehouse-commissioning picture (as `WarehouseEnv.render` writes it in text): floor light,
 * shelf cells (where items appear) tan, unreachable corners dark; items as orange squares that
 * darken with age; learning robots as coloured discs with their letter (A = agent 0), the
 * scripted ring as grey discs; each robot's 5 × 5 region outlined.
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
import {
  unpackWarehouseStates,
  type WarehouseConfig,
  warehouseGridSize,
  warehouseLearningRobot,
  warehouseStateStride,
} from "./layout.ts";

/** Colours of the cell kinds, items and scripted robots. */
export const WAREHOUSE_COLORS = Object.freeze({
  floor: "#f6f6f2",
  shelf: "#e2cfa6",
  corner: "#4a4a4a",
  item: "#f08c00",
  oldItem: "#a33c00",
  scripted: "#9a9a9a",
});

/** Side of a cell for a grid of `n` cells [px]: 32 up to 17 cells, smaller beyond (≥ 10). */
export function warehouseCell(n: number): number {
  return Math.max(10, Math.min(32, Math.floor(560 / n)));
}

/** Where the grid lies on the canvas. */
export function warehouseGrid(cfg: WarehouseConfig): GridLayout {
  return { left: 4, top: HEADER_HEIGHT, cell: warehouseCell(warehouseGridSize(cfg)) };
}

/** Colour of an item of `age` steps in an episode of `maxSteps`: orange, darkening with age. */
function itemColor(age: number, maxSteps: number): string {
  const t = Math.min(1, age / Math.max(1, maxSteps / 2));
  const mix = (a: number, b: number) => Math.round(a + (b - a) * t).toString(16).padStart(2, "0");
  return `#${mix(0xf0, 0xa3)}${mix(0x8c, 0x3c)}${mix(0x00, 0x00)}`;
}

/** Draws warehouse global-simulator states (state entry `state`). */
export const WAREHOUSE_RENDERER: EnvRenderer = Object.freeze({
  family: "warehouse",
  tensors: Object.freeze(["state"]),
  stateWords: (spec: EnvSpec) => ({
    state: warehouseStateStride(spec.config as unknown as WarehouseConfig),
  }),
  size(spec: EnvSpec) {
    const cfg = spec.config as unknown as WarehouseConfig;
    const n = warehouseGridSize(cfg), cell = warehouseCell(n);
    return { width: n * cell + 8, height: HEADER_HEIGHT + n * cell + 4 };
  },
  draw(ctx: DrawContext, frame: EnvStateFrame) {
    const cfg = frame.spec.config as unknown as WarehouseConfig;
    const [s] = unpackWarehouseStates(cfg, envWords(frame, "state"));
    const { width, height } = WAREHOUSE_RENDERER.size(frame.spec);
    const g = warehouseGrid(cfg), n = warehouseGridSize(cfg);
    drawFrameStart(ctx, {
      width,
      height,
      text: `step ${s.step} · episode ${s.episode} · items ${s.items.length}`,
    });
    drawGrid(ctx, g, { rows: n, cols: n, fill: WAREHOUSE_COLORS.floor, line: "#e4e4de" });
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < n; c++) {
        const rb = r % 4 === 0, cb = c % 4 === 0;
        if (rb && cb) fillCell(ctx, g, { row: r, col: c, color: WAREHOUSE_COLORS.corner });
        else if (rb || cb) fillCell(ctx, g, { row: r, col: c, color: WAREHOUSE_COLORS.shelf });
      }
    }
    for (const it of s.items) {
      fillCell(ctx, g, {
        row: it.row,
        col: it.col,
        color: itemColor(it.age, cfg.maxSteps),
        inset: g.cell * 0.2,
      });
    }
    ctx.strokeStyle = "#b0a58c";
    ctx.lineWidth = 1;
    for (let i = 0; i < cfg.robotsPerSide; i++) {
      for (let j = 0; j < cfg.robotsPerSide; j++) {
        const o = cellOrigin(g, 4 * i, 4 * j);
        ctx.strokeRect(o.x, o.y, 5 * g.cell, 5 * g.cell);
      }
    }
    const learner = new Map<number, number>();
    for (let a = 0; a < cfg.learningPerSide ** 2; a++) {
      learner.set(warehouseLearningRobot(cfg, a), a);
    }
    s.robots.forEach((p, id) => {
      const c = cellCenter(g, p.row, p.col);
      const a = learner.get(id);
      drawDisc(ctx, {
        x: c.x,
        y: c.y,
        radius: g.cell * 0.38,
        fill: a === undefined ? WAREHOUSE_COLORS.scripted : agentColor(a),
        stroke: "#ffffff",
        lineWidth: 1.5,
      });
      if (a !== undefined) {
        drawLabel(ctx, agentLetter(a), c.x, c.y, {
          color: "#ffffff",
          font: `bold ${Math.max(8, Math.round(g.cell * 0.45))}px sans-serif`,
        });
      }
    });
  },
});
