/**
 * The traffic-grid picture (as `TrafficEnv.render` writes it in text): N × N intersections (row 0
 * at the bottom, the south), each fed by four incoming lanes of 40 cells and crossed through its
 * 4-cell box, driving on the right. Vehicles cover their front cell and the one behind it,
 * coloured by speed (red stopped … green at top speed), and each approach's stop line shows its
 * signal: green, yellow (the previous green while the signal switches) or red.
 *
 * @module
 */
import type { EnvSpec } from "../env.ts";
import {
  type DrawContext,
  drawFrameStart,
  type EnvRenderer,
  type EnvStateFrame,
  envWords,
  HEADER_HEIGHT,
} from "../draw.ts";
import { TRAFFIC_LANE, type TrafficConfig, type TrafficSignal } from "./reference.ts";
import { TRAFFIC_JUNCTION_WORDS, TRAFFIC_SEGMENT, unpackTrafficGs } from "./state.ts";

/** Colours by vehicle speed 0..vmax, and of the signal states. */
export const TRAFFIC_COLORS = Object.freeze({
  speed: Object.freeze(["#a50026", "#f46d43", "#fdae61", "#a6d96a", "#1a9850"]),
  green: "#00e040",
  yellow: "#ffd000",
  red: "#ff1010",
  road: "#8a8f98",
  grass: "#e8efe2",
});

/** Geometry of a traffic picture [px]. */
export interface TrafficLayout {
  /** Intersections per side. */
  n: number;
  /** Length of one lane cell. */
  s: number;
  /** Lane length (40 cells). */
  lane: number;
  /** Side of a junction box (4 cells; two lanes of 2 cells each). */
  box: number;
  /** Distance between neighbouring junction centres. */
  pitch: number;
  width: number;
  height: number;
}

/** The layout of a grid of `n` × `n` intersections (cell length 1..5 px, about 760 px wide). */
export function trafficLayout(n: number): TrafficLayout {
  const { cells, box } = TRAFFIC_LANE;
  const s = Math.max(1, Math.min(5, Math.floor(760 / ((n + 1) * cells + n * box))));
  const lane = cells * s, side = box * s, pitch = lane + side;
  const extent = (n + 1) * lane + n * side;
  return { n, s, lane, box: side, pitch, width: extent, height: HEADER_HEIGHT + extent };
}

/** Centre of junction `k` (row 0 at the bottom). */
export function junctionCenter(l: TrafficLayout, k: number): { x: number; y: number } {
  const row = Math.floor(k / l.n), col = k % l.n;
  return {
    x: l.lane + l.box / 2 + col * l.pitch,
    y: HEADER_HEIGHT + l.lane + l.box / 2 + (l.n - 1 - row) * l.pitch,
  };
}

/**
 * The rectangle of cell `pos` (0 at the lane entrance, 39 at the stop line, 40..43 in the box)
 * of approach `a` (0 W, 1 S, 2 E, 3 N: where the lane comes from) of the junction centred at `c`.
 */
export function laneCell(
  l: TrafficLayout,
  c: { x: number; y: number },
  a: number,
  pos: number,
): { x: number; y: number; w: number; h: number } {
  const w = l.box / 2, far = l.box / 2 + l.lane, s = l.s;
  switch (a) {
    case 0: // from the west, eastbound, south half of the road
      return { x: c.x - far + pos * s, y: c.y, w: s, h: w };
    case 2: // from the east, westbound, north half
      return { x: c.x + far - (pos + 1) * s, y: c.y - w, w: s, h: w };
    case 1: // from the south, northbound, east half
      return { x: c.x, y: c.y + far - (pos + 1) * s, w, h: s };
    default: // from the north, southbound, west half
      return { x: c.x - w, y: c.y - far + pos * s, w, h: s };
  }
}

/** Signal colour of approach `a` (0 W, 1 S, 2 E, 3 N). */
export function approachColor(signal: TrafficSignal, a: number): string {
  const eastWest = a === 0 || a === 2;
  const mine = eastWest ? 1 : 0;
  if (signal.yellow) return signal.dir !== mine ? TRAFFIC_COLORS.yellow : TRAFFIC_COLORS.red;
  return signal.dir === mine ? TRAFFIC_COLORS.green : TRAFFIC_COLORS.red;
}

/** Draws traffic global-simulator states (entries `cells`, `backlog`, `junctions`). */
export const TRAFFIC_RENDERER: EnvRenderer = Object.freeze({
  family: "traffic",
  tensors: Object.freeze(["cells", "backlog", "junctions"]),
  stateWords(spec: EnvSpec) {
    const a = (spec.config as unknown as TrafficConfig).gridSize ** 2;
    return {
      cells: 4 * a * TRAFFIC_SEGMENT,
      backlog: 4 * a,
      junctions: a * TRAFFIC_JUNCTION_WORDS,
    };
  },
  size(spec: EnvSpec) {
    const l = trafficLayout((spec.config as unknown as TrafficConfig).gridSize);
    return { width: l.width, height: l.height };
  },
  draw(ctx: DrawContext, frame: EnvStateFrame) {
    const cfg = frame.spec.config as unknown as TrafficConfig;
    const [s] = unpackTrafficGs(cfg, {
      cells: envWords(frame, "cells"),
      backlog: envWords(frame, "backlog"),
      junctions: envWords(frame, "junctions"),
    });
    const l = trafficLayout(cfg.gridSize);
    const vehicles = s.lanes.reduce((sum, lane) => sum + lane.length, 0);
    const j0 = s.junctions[0];
    drawFrameStart(ctx, {
      width: l.width,
      height: l.height,
      text: `step ${j0.t} · episode ${j0.episode} · vehicles ${vehicles}`,
      background: TRAFFIC_COLORS.grass,
    });
    ctx.fillStyle = TRAFFIC_COLORS.road;
    for (let i = 0; i < l.n; i++) {
      const c = junctionCenter(l, i * l.n + i);
      ctx.fillRect(0, c.y - l.box / 2, l.width, l.box);
      ctx.fillRect(c.x - l.box / 2, HEADER_HEIGHT, l.box, l.height - HEADER_HEIGHT);
    }
    s.junctions.forEach((j, k) => {
      const c = junctionCenter(l, k);
      for (let a = 0; a < 4; a++) {
        const stop = laneCell(l, c, a, TRAFFIC_LANE.cells - 1);
        const bar = Math.max(2, l.s / 2);
        ctx.fillStyle = approachColor(j.signal, a);
        if (a === 0) ctx.fillRect(stop.x + stop.w - bar, stop.y, bar, stop.h);
        else if (a === 2) ctx.fillRect(stop.x, stop.y, bar, stop.h);
        else if (a === 1) ctx.fillRect(stop.x, stop.y, stop.w, bar);
        else ctx.fillRect(stop.x, stop.y + stop.h - bar, stop.w, bar);
        for (const v of s.lanes[4 * k + a]) {
          // A vehicle covers its front cell and the one behind it.
          const f = laneCell(l, c, a, v.pos), b = laneCell(l, c, a, Math.max(0, v.pos - 1));
          const x = Math.min(f.x, b.x), y = Math.min(f.y, b.y);
          const w = Math.max(f.x + f.w, b.x + b.w) - x, h = Math.max(f.y + f.h, b.y + b.h) - y;
          ctx.fillStyle = TRAFFIC_COLORS.speed[Math.min(v.speed, TRAFFIC_COLORS.speed.length - 1)];
          ctx.fillRect(x + 0.5, y + 0.5, Math.max(1, w - 1), Math.max(1, h - 1));
        }
      }
    });
  },
});
