/**
 * The renderer registry: one {@linkcode EnvRenderer} per env family that has a picture, looked up
 * by `spec.family` (families without one, such as the local simulators, give null).
 *
 * @module
 */
import type { EnvRenderer } from "./draw.ts";
import { LBF_RENDERER } from "./lbf/draw.ts";
import { PURSUIT_RENDERER } from "./pursuit/draw.ts";
import { RWARE_RENDERER } from "./rware/draw.ts";
import { TRAFFIC_RENDERER } from "./traffic/draw.ts";
import { WAREHOUSE_RENDERER } from "./warehouse/draw.ts";

/**
 * Every renderer, by family.
 *
 * @example Draw an LBF state on a recording context
 * ```ts
 * import { RENDERERS } from "./renderers.ts";
 * import { createRecordingContext } from "./draw_recorder.ts";
 * import { findTask } from "./registry.ts";
 * import { packLbfStates, type LbfConfig } from "./lbf/state.ts";
 *
 * const { spec } = findTask("Foraging-5x5-2p-1f");
 * const state = packLbfStates(spec.config as unknown as LbfConfig, [{
 *   step: 0, episode: 0, foodSpawned: 1, scores: [0, 0],
 *   players: [{ row: 0, col: 0, level: 1 }, { row: 4, col: 4, level: 2 }],
 *   food: [{ row: 2, col: 2, level: 1 }],
 * }]);
 * const { ctx, commands } = createRecordingContext();
 * RENDERERS.lbf.draw(ctx, { spec, state: { state }, numEnvs: 1, envIndex: 0 });
 * console.log(commands.filter(([name]) => name === "fillText").length); // header, food, 2 × 2
 * ```
 */
export const RENDERERS = Object.freeze({
  lbf: LBF_RENDERER,
  rware: RWARE_RENDERER,
  pursuit: PURSUIT_RENDERER,
  warehouse: WAREHOUSE_RENDERER,
  traffic: TRAFFIC_RENDERER,
}) satisfies Readonly<Record<string, EnvRenderer>>;

/**
 * The renderer of a family, or null when it has none.
 *
 * @param family `spec.family`.
 * @returns The renderer or null.
 */
export function findRenderer(family: string): EnvRenderer | null {
  return Object.hasOwn(RENDERERS, family)
    ? (RENDERERS as Readonly<Record<string, EnvRenderer>>)[family]
    : null;
}
