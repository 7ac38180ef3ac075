/**
 * Pictures of env states on a 2-D canvas: the {@linkcode EnvRenderer} contract every family's
 * `envs/<family>/draw.ts` fulfils, the {@linkcode DrawContext} they draw on (the part of the
 * browser's `CanvasRenderingContext2D` they use, so tests and replays can pass a recording fake,
 * `envs/draw_recorder.ts`) and the helpers they share: grid, discs, labels, the header line and
 * the agent palette. Renderers are pure: they read host copies of the env's state tensors (as
 * `readTensors` returns them for the entries of `env.stateTensors()` the renderer names) and never
 * touch the GPU. The registry is `envs/renderers.ts`.
 *
 * @module
 */
import type { EnvSpec } from "./env.ts";

/** The part of `CanvasRenderingContext2D` renderers use (a real 2-D context fits). */
export interface DrawContext {
  fillStyle: string;
  strokeStyle: string;
  lineWidth: number;
  /** CSS font, e.g. `"bold 14px sans-serif"`. */
  font: string;
  /** `"left" | "right" | "center" | "start" | "end"`. */
  textAlign: string;
  /** `"top" | "middle" | "alphabetic" | "bottom" | "hanging" | "ideographic"`. */
  textBaseline: string;
  fillRect(x: number, y: number, w: number, h: number): void;
  strokeRect(x: number, y: number, w: number, h: number): void;
  beginPath(): void;
  closePath(): void;
  moveTo(x: number, y: number): void;
  lineTo(x: number, y: number): void;
  arc(x: number, y: number, radius: number, startAngle: number, endAngle: number): void;
  fill(): void;
  stroke(): void;
  fillText(text: string, x: number, y: number): void;
}

/** Host copies of an env's state tensors, for one picture. */
export interface EnvStateFrame {
  /** The task. */
  spec: EnvSpec;
  /**
   * The entries of `env.stateTensors()` the renderer names in {@linkcode EnvRenderer.tensors},
   * each `[numEnvs, …]` u32 words as read back.
   */
  state: Readonly<Record<string, Uint32Array>>;
  /** Envs in the arrays (1 for a recorded single-env frame). */
  numEnvs: number;
  /** Which env to draw, in [0, numEnvs). */
  envIndex: number;
}

/** Draws the states of one env family. */
export interface EnvRenderer {
  /** The family it draws (`spec.family`). */
  readonly family: string;
  /** Names of the `env.stateTensors()` entries it reads (all u32, numEnvs-major). */
  readonly tensors: readonly string[];
  /**
   * Words per env of each state entry it reads, for a task: a state whose entries have other
   * sizes is not the env it draws (e.g. a local simulator presenting the global task's spec).
   */
  stateWords(spec: EnvSpec): Readonly<Record<string, number>>;
  /** Canvas size for a task [px]. */
  size(spec: EnvSpec): { width: number; height: number };
  /** Draws env `frame.envIndex` over the whole canvas (background included). */
  draw(ctx: DrawContext, frame: EnvStateFrame): void;
}

/** Height of the header line above every picture [px]. */
export const HEADER_HEIGHT = 22;

/** Fill colours of agents by index (cycled), chosen to read on light and dark cells. */
export const AGENT_COLORS: readonly string[] = Object.freeze([
  "#1f77b4",
  "#d62728",
  "#9467bd",
  "#ff7f0e",
  "#17becf",
  "#8c564b",
  "#e377c2",
  "#2ca02c",
  "#7f7f7f",
  "#bcbd22",
]);

/** Colour of agent `i`. */
export function agentColor(i: number): string {
  return AGENT_COLORS[i % AGENT_COLORS.length];
}

/** Letter name of agent `i` as the text renders name it: A, B, … Z, then A1, B1 … */
export function agentLetter(i: number): string {
  const round = Math.floor(i / 26);
  return String.fromCharCode(65 + (i % 26)) + (round > 0 ? String(round) : "");
}

/**
 * The words of env `frame.envIndex` in state entry `name` (a view).
 *
 * @param frame The frame.
 * @param name Entry of `frame.state`.
 * @returns Its `length / numEnvs` words of that env.
 * @throws {TypeError} When the entry is missing or its length is not a multiple of numEnvs.
 */
export function envWords(frame: EnvStateFrame, name: string): Uint32Array {
  const all = frame.state[name];
  const { numEnvs, envIndex } = frame;
  if (!all) {
    throw new TypeError(
      `Cannot draw ${frame.spec.family} env: state "${name}" is missing (have ${
        Object.keys(frame.state).join(", ") || "none"
      })`,
    );
  }
  if (all.length % numEnvs !== 0 || !(envIndex >= 0 && envIndex < numEnvs)) {
    throw new RangeError(
      `Cannot draw env ${envIndex} of ${numEnvs}: state "${name}" has ${all.length} words`,
    );
  }
  const per = all.length / numEnvs;
  return all.subarray(envIndex * per, (envIndex + 1) * per);
}

/**
 * The frame of one env cut out of a frame of many (the arrays copied), as recorded replays store
 * it: `numEnvs` 1, `envIndex` 0.
 *
 * @param frame A frame of the whole batch.
 * @returns The frame of env `frame.envIndex` alone.
 */
export function sliceEnvFrame(frame: EnvStateFrame): EnvStateFrame {
  const state: Record<string, Uint32Array> = {};
  for (const name of Object.keys(frame.state)) state[name] = envWords(frame, name).slice();
  return { spec: frame.spec, state, numEnvs: 1, envIndex: 0 };
}

/** Where a grid's cells lie on the canvas [px]. */
export interface GridLayout {
  /** Left edge of column 0. */
  left: number;
  /** Top edge of row 0. */
  top: number;
  /** Side of a cell. */
  cell: number;
}

/** Top-left corner of cell (row, col). */
export function cellOrigin(g: GridLayout, row: number, col: number): { x: number; y: number } {
  return { x: g.left + col * g.cell, y: g.top + row * g.cell };
}

/** Centre of cell (row, col). */
export function cellCenter(g: GridLayout, row: number, col: number): { x: number; y: number } {
  return { x: g.left + (col + 0.5) * g.cell, y: g.top + (row + 0.5) * g.cell };
}

/**
 * Clears the canvas to `background` and writes the header line (left-aligned, dark grey).
 *
 * @param ctx Context.
 * @param options Canvas `width` and `height`, the header `text` and the `background` colour.
 */
export function drawFrameStart(
  ctx: DrawContext,
  options: { width: number; height: number; text: string; background?: string },
): void {
  ctx.fillStyle = options.background ?? "#ffffff";
  ctx.fillRect(0, 0, options.width, options.height);
  drawLabel(ctx, options.text, 6, HEADER_HEIGHT / 2, {
    color: "#333333",
    font: "13px sans-serif",
    align: "left",
  });
}

/**
 * Fills every cell of a `rows` × `cols` grid and strokes the cell borders.
 *
 * @param ctx Context.
 * @param g Where the grid lies.
 * @param options Size, cell `fill` and `line` colours.
 */
export function drawGrid(
  ctx: DrawContext,
  g: GridLayout,
  options: { rows: number; cols: number; fill: string; line: string },
): void {
  const { rows, cols } = options;
  ctx.fillStyle = options.fill;
  ctx.fillRect(g.left, g.top, cols * g.cell, rows * g.cell);
  ctx.strokeStyle = options.line;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let r = 0; r <= rows; r++) {
    ctx.moveTo(g.left, g.top + r * g.cell);
    ctx.lineTo(g.left + cols * g.cell, g.top + r * g.cell);
  }
  for (let c = 0; c <= cols; c++) {
    ctx.moveTo(g.left + c * g.cell, g.top);
    ctx.lineTo(g.left + c * g.cell, g.top + rows * g.cell);
  }
  ctx.stroke();
}

/**
 * Fills cell (row, col), inset by `inset` pixels on each side.
 *
 * @param ctx Context.
 * @param g Where the grid lies.
 * @param options Cell `row`, `col`, `color` and `inset`.
 */
export function fillCell(
  ctx: DrawContext,
  g: GridLayout,
  options: { row: number; col: number; color: string; inset?: number },
): void {
  const { x, y } = cellOrigin(g, options.row, options.col);
  const d = options.inset ?? 0;
  ctx.fillStyle = options.color;
  ctx.fillRect(x + d, y + d, g.cell - 2 * d, g.cell - 2 * d);
}

/**
 * A filled disc with an optional outline.
 *
 * @param ctx Context.
 * @param options Centre, `radius`, `fill`, and `stroke` colour and `lineWidth` for the outline.
 */
export function drawDisc(
  ctx: DrawContext,
  options: {
    x: number;
    y: number;
    radius: number;
    fill: string;
    stroke?: string;
    lineWidth?: number;
  },
): void {
  ctx.fillStyle = options.fill;
  ctx.beginPath();
  ctx.arc(options.x, options.y, options.radius, 0, 2 * Math.PI);
  ctx.closePath();
  ctx.fill();
  if (options.stroke) {
    ctx.strokeStyle = options.stroke;
    ctx.lineWidth = options.lineWidth ?? 1;
    ctx.stroke();
  }
}

/**
 * Text centred on (x, y) unless `align` says otherwise.
 *
 * @param ctx Context.
 * @param text The text.
 * @param x Anchor x.
 * @param y Anchor y (the text's middle).
 * @param style `color`, CSS `font` and `align`.
 */
export function drawLabel(
  ctx: DrawContext,
  text: string,
  x: number,
  y: number,
  style: { color: string; font: string; align?: string },
): void {
  ctx.fillStyle = style.color;
  ctx.font = style.font;
  ctx.textAlign = style.align ?? "center";
  ctx.textBaseline = "middle";
  ctx.fillText(text, x, y);
}
