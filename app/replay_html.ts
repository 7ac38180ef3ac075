/**
 * A self-contained HTML canvas replay of recorded env states: each frame is drawn once here, by
 * the family's renderer (`envs/renderers.ts`) on a recording context, and the page repaints the
 * recorded commands on a `<canvas>` (slider, play/pause, per-step rewards). Commands repeat a lot
 * between frames (grid, walls, shelves), so the page stores each distinct command once and every
 * frame as a list of indices. The playground and `deno task eval` draw with the same renderers.
 *
 * @module
 */
import type { EnvSpec } from "../envs/env.ts";
import { createRecordingContext, type DrawCommand } from "../envs/draw_recorder.ts";
import { findRenderer } from "../envs/renderers.ts";

/** One recorded frame: the state of one env after `step` steps of its episode. */
export interface ReplayFrame {
  /** Step of the episode (0 = after reset). */
  step: number;
  /** Reward of each agent at this step (zeros at step 0). */
  reward: readonly number[];
  /**
   * The env's state entries the renderer names (`findRenderer(spec.family).tensors`), words of
   * this env alone (cut out of a batch with `sliceEnvFrame` of `envs/draw.ts`).
   */
  state: Readonly<Record<string, ArrayLike<number>>>;
}

/** What {@linkcode replayCanvasHtml} builds a page from. */
export interface ReplayOptions {
  /** The task the frames come from. */
  spec: EnvSpec;
  /** Frames in order. */
  frames: readonly ReplayFrame[];
  /** Page title and heading. */
  title: string;
  /** One line under the heading (e.g. returns per agent). */
  summary?: string;
  /** Milliseconds per frame when playing. Default 250. */
  frameMs?: number;
}

/** The commands of every frame, each distinct command stored once. */
export interface RecordedReplay {
  width: number;
  height: number;
  /** Distinct commands. */
  table: DrawCommand[];
  /** Per frame: step, rewards and indices into `table`. */
  frames: { step: number; reward: number[]; ops: number[] }[];
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!,
  );
}

/**
 * Draws every frame with the family's renderer on a recording context.
 *
 * @param spec The task.
 * @param frames Frames of one env.
 * @returns Canvas size, distinct commands and per-frame indices.
 * @throws {TypeError} When the family has no renderer.
 */
export function recordReplay(spec: EnvSpec, frames: readonly ReplayFrame[]): RecordedReplay {
  const renderer = findRenderer(spec.family);
  if (!renderer) {
    throw new TypeError(
      `Cannot draw a replay of "${spec.name}": family "${spec.family}" has no renderer`,
    );
  }
  const { width, height } = renderer.size(spec);
  const table: DrawCommand[] = [];
  const index = new Map<string, number>();
  const out: RecordedReplay["frames"] = [];
  for (const f of frames) {
    const state: Record<string, Uint32Array> = {};
    for (const [k, v] of Object.entries(f.state)) state[k] = Uint32Array.from(v);
    const rec = createRecordingContext();
    renderer.draw(rec.ctx, { spec, state, numEnvs: 1, envIndex: 0 });
    const ops = rec.commands.map((c) => {
      const key = JSON.stringify(c);
      let i = index.get(key);
      if (i === undefined) {
        i = table.length;
        table.push(c);
        index.set(key, i);
      }
      return i;
    });
    out.push({ step: f.step, reward: [...f.reward], ops });
  }
  return { width, height, table, frames: out };
}

/**
 * A self-contained HTML page that replays `frames` on a canvas (no network, no library).
 *
 * @param options Spec, frames, title, summary and speed.
 * @returns The HTML text.
 *
 * @example A two-frame LBF replay
 * ```ts
 * import { replayCanvasHtml } from "./replay_html.ts";
 * import { findTask } from "../envs/registry.ts";
 * import { packLbfStates, type LbfConfig } from "../envs/lbf/state.ts";
 *
 * const { spec } = findTask("Foraging-5x5-2p-1f");
 * const cfg = spec.config as unknown as LbfConfig;
 * const at = (step: number, col: number) => ({
 *   step,
 *   reward: [0, 0],
 *   state: {
 *     state: packLbfStates(cfg, [{
 *       step, episode: 0, foodSpawned: 1, scores: [0, 0],
 *       players: [{ row: 0, col, level: 1 }, { row: 4, col: 4, level: 2 }],
 *       food: [{ row: 2, col: 2, level: 1 }],
 *     }]),
 *   },
 * });
 * const html = replayCanvasHtml({ spec, frames: [at(0, 0), at(1, 1)], title: "LBF replay" });
 * console.log(html.includes("<canvas")); // true
 * ```
 */
export function replayCanvasHtml(options: ReplayOptions): string {
  const rec = recordReplay(options.spec, options.frames);
  const json = JSON.stringify(rec).replace(/</g, "\\u003c");
  const title = escapeHtml(options.title);
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${title}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
canvas { border: 1px solid #ccc; display: block; margin-top: 8px; }
input[type=range] { width: 360px; vertical-align: middle; }
</style></head>
<body>
<h1>${title}</h1>
${options.summary ? `<p>${escapeHtml(options.summary)}</p>` : ""}
<p><button id="play">Play</button> <input id="slider" type="range" min="0" value="0"> <span id="label"></span></p>
<canvas id="canvas"></canvas>
<script type="application/json" id="replay-data">${json}</script>
<script>
const data = JSON.parse(document.getElementById("replay-data").textContent);
const canvas = document.getElementById("canvas"), slider = document.getElementById("slider");
const label = document.getElementById("label"), play = document.getElementById("play");
const dpr = window.devicePixelRatio || 1;
canvas.width = data.width * dpr; canvas.height = data.height * dpr;
canvas.style.width = data.width + "px"; canvas.style.height = data.height + "px";
const ctx = canvas.getContext("2d");
slider.max = String(data.frames.length - 1);
function show(i) {
  const f = data.frames[i];
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  for (const k of f.ops) {
    const [name, ...args] = data.table[k];
    if (typeof ctx[name] === "function") ctx[name](...args); else ctx[name] = args[0];
  }
  const last = data.frames[data.frames.length - 1].step;
  label.textContent = "step " + f.step + " / " + last + " · reward " + f.reward.map((v) => v.toFixed(3)).join(", ");
  slider.value = String(i);
}
let timer = null;
function stop() { clearInterval(timer); timer = null; play.textContent = "Play"; }
play.onclick = () => {
  if (timer) return stop();
  if (Number(slider.value) >= data.frames.length - 1) show(0);
  play.textContent = "Pause";
  timer = setInterval(() => {
    const i = Number(slider.value) + 1;
    if (i >= data.frames.length) return stop();
    show(i);
  }, ${options.frameMs ?? 250});
};
slider.oninput = () => show(Number(slider.value));
if (data.frames.length) show(0);
</script>
</body>
</html>
`;
}
