/**
 * A {@linkcode DrawContext} that records instead of painting: every property set and method call
 * becomes one {@linkcode DrawCommand} (`["fillStyle", "#fff"]`, `["fillRect", 0, 0, 10, 10]`).
 * Renderer tests read the commands; replays store them and paint them later on a real canvas
 * with {@linkcode playDrawCommands} (the HTML replay of `app/replay_html.ts` inlines the same
 * one-line player).
 *
 * @module
 */
import type { DrawContext } from "./draw.ts";

/** One recorded property set or call: its name, then the value or the arguments. */
export type DrawCommand = readonly [string, ...(string | number)[]];

const PROPERTIES = [
  "fillStyle",
  "strokeStyle",
  "lineWidth",
  "font",
  "textAlign",
  "textBaseline",
] as const;
const METHODS = [
  "fillRect",
  "strokeRect",
  "beginPath",
  "closePath",
  "moveTo",
  "lineTo",
  "arc",
  "fill",
  "stroke",
  "fillText",
] as const;

/** A recording context and the commands it has recorded so far. */
export interface RecordingContext {
  /** Draw on this. */
  readonly ctx: DrawContext;
  /** Everything drawn, in order (numbers rounded to 1/100 px). */
  readonly commands: DrawCommand[];
}

/** Rounds coordinates so recordings are short and stable across float noise. */
function round(v: string | number): string | number {
  return typeof v === "number" ? Math.round(v * 100) / 100 : v;
}

/**
 * A fresh recording context. Reading a property gives the last value set (canvas defaults
 * before).
 *
 * @returns The context and its command list.
 */
export function createRecordingContext(): RecordingContext {
  const commands: DrawCommand[] = [];
  const values: Record<string, string | number> = {
    fillStyle: "#000000",
    strokeStyle: "#000000",
    lineWidth: 1,
    font: "10px sans-serif",
    textAlign: "start",
    textBaseline: "alphabetic",
  };
  const ctx = {} as Record<string, unknown>;
  for (const p of PROPERTIES) {
    Object.defineProperty(ctx, p, {
      get: () => values[p],
      set: (v: string | number) => {
        values[p] = v;
        commands.push([p, round(v)]);
      },
      enumerable: true,
    });
  }
  for (const m of METHODS) {
    ctx[m] = (...args: (string | number)[]) => commands.push([m, ...args.map(round)]);
  }
  return { ctx: ctx as unknown as DrawContext, commands };
}

/**
 * Paints recorded commands on a context (a real canvas or another recorder).
 *
 * @param ctx Where to paint.
 * @param commands Commands from {@linkcode createRecordingContext}.
 */
export function playDrawCommands(ctx: DrawContext, commands: readonly DrawCommand[]): void {
  const target = ctx as unknown as Record<string, unknown>;
  for (const [name, ...args] of commands) {
    const member = target[name];
    if (typeof member === "function") member.apply(ctx, args);
    else target[name] = args[0];
  }
}
