/**
 * Renderer test helpers: draw a state on a recording context and read the commands back as
 * shapes with the style they were drawn in (fill colour, stroke colour, line width, font).
 *
 * @module
 */
import type { EnvSpec } from "../../envs/env.ts";
import type { EnvRenderer } from "../../envs/draw.ts";
import { createRecordingContext, type DrawCommand } from "../../envs/draw_recorder.ts";

/** One drawing call with the style in force when it was made. */
export interface Shape {
  op: string;
  args: (string | number)[];
  fill: string;
  stroke: string;
  lineWidth: number;
  font: string;
}

/** Replays recorded commands into shapes (property sets update the style). */
export function shapes(commands: readonly DrawCommand[]): Shape[] {
  const style = { fill: "#000000", stroke: "#000000", lineWidth: 1, font: "" };
  const out: Shape[] = [];
  for (const [op, ...args] of commands) {
    if (op === "fillStyle") style.fill = String(args[0]);
    else if (op === "strokeStyle") style.stroke = String(args[0]);
    else if (op === "lineWidth") style.lineWidth = Number(args[0]);
    else if (op === "font") style.font = String(args[0]);
    else if (op !== "textAlign" && op !== "textBaseline") out.push({ op, args, ...style });
  }
  return out;
}

/** Draws env 0 of `state` (one env's words per entry) and returns the shapes and commands. */
export function drawOne(
  renderer: EnvRenderer,
  spec: EnvSpec,
  state: Record<string, Uint32Array>,
): { shapes: Shape[]; commands: DrawCommand[] } {
  const rec = createRecordingContext();
  renderer.draw(rec.ctx, { spec, state, numEnvs: 1, envIndex: 0 });
  return { shapes: shapes(rec.commands), commands: rec.commands };
}

/** The texts drawn, with their anchor. */
export function texts(s: readonly Shape[]): { text: string; x: number; y: number; fill: string }[] {
  return s.filter((d) => d.op === "fillText").map((d) => ({
    text: String(d.args[0]),
    x: Number(d.args[1]),
    y: Number(d.args[2]),
    fill: d.fill,
  }));
}

/** The discs drawn (`arc` calls), with their centre, radius and fill colour. */
export function discs(s: readonly Shape[]): { x: number; y: number; r: number; fill: string }[] {
  return s.filter((d) => d.op === "arc").map((d) => ({
    x: Number(d.args[0]),
    y: Number(d.args[1]),
    r: Number(d.args[2]),
    fill: d.fill,
  }));
}

/** `fillRect` calls in colour `color` as [x, y, w, h]. */
export function rects(s: readonly Shape[], color: string): number[][] {
  return s.filter((d) => d.op === "fillRect" && d.fill === color).map((d) => d.args.map(Number));
}

/** Rounds to 1/100 as the recorder does. */
export function r2(v: number): number {
  return Math.round(v * 100) / 100;
}
