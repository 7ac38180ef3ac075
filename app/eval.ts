/**
 * Evaluation of a checkpoint (`deno task eval <checkpoint>`): rebuilds the run from the
 * checkpoint's metadata (config), loads the weights, runs the policy with
 * `trainer.encodeAct({ greedy })` for some episodes, and reports returns per agent. Env 0's first
 * episode is recorded as text frames (`env.render`), printed to the terminal and written as a
 * self-contained HTML replay.
 *
 * @module
 */
import { createEngine, type Engine } from "../engine/device.ts";
import { readTensors } from "../engine/readback.ts";
import { readCheckpoint, restoreCheckpoint, writeFileAtomic } from "./checkpoint.ts";
import { validateConfig } from "./config.ts";
import { createEpisodeStats } from "../algorithms/episode_stats.ts";
import { findAlgorithm } from "../algorithms/mod.ts";
import { envLabel } from "./run_files.ts";

/** Options of {@linkcode evaluate}. */
export interface EvalOptions {
  /** Episodes to finish (at least). Default 20. */
  episodes?: number;
  /** Parallel envs. Default min(training numEnvs, 16). */
  numEnvs?: number;
  /** Greedy actions (true) or the behaviour policy. Default true. */
  greedy?: boolean;
  /** Env reset seed. Default the training seed + 1 (episodes not seen in training's first resets). */
  seed?: number;
  /** Path of the HTML replay; null for none. Default `<checkpoint folder>/replay.html`. */
  html?: string | null;
  /** Engine to use (default: a fresh one, destroyed at the end). */
  engine?: Engine;
}

/** One recorded frame of env 0. */
export interface Frame {
  /** Step of the episode (0 = after reset). */
  step: number;
  /** Text picture (env.render). */
  text: string;
  /** Reward of each agent at this step (0 at step 0). */
  reward: number[];
}

/** What {@linkcode evaluate} measured. */
export interface EvalResult {
  task: string;
  algo: string;
  episodes: number;
  meanReturn: number;
  returnPerAgent: number[];
  meanLength: number;
  /** Env 0's first episode (empty when the env has no `render`). */
  frames: Frame[];
  /** Path of the HTML replay, or null. */
  html: string | null;
  /** Checkpoint tensors loaded and skipped (skipped: env state and numEnvs-sized buffers). */
  loaded: string[];
  skipped: string[];
}

/**
 * Runs a checkpoint's policy (see the module doc).
 *
 * @param path Checkpoint file (`checkpoint.safetensors` of a run).
 * @param options Episodes, envs, greedy, seed, HTML path, engine.
 * @returns Returns per agent, frames and the replay path.
 */
export async function evaluate(path: string, options: EvalOptions = {}): Promise<EvalResult> {
  const checkpoint = await readCheckpoint(path);
  const trained = validateConfig(checkpoint.config, `${path} (metadata)`);
  const numEnvs = options.numEnvs ?? Math.min(trained.numEnvs, 16);
  const config = validateConfig(
    { ...structuredClone(trained), numEnvs, seed: options.seed ?? trained.seed + 1 },
    `${path} (metadata)`,
  );
  const target = options.episodes ?? 20;
  if (!Number.isInteger(target) || target < 1) {
    throw new RangeError(
      `Cannot evaluate "${path}": episodes must be an integer >= 1, got ${target}`,
    );
  }
  const greedy = options.greedy ?? true;
  const engine = options.engine ?? await createEngine();
  try {
    const def = findAlgorithm(config.algo.name)!;
    const { name: _n, ...algo } = config.algo;
    const trainer = await def.create(engine, config, algo);
    const { loaded, skipped } = restoreCheckpoint(engine, { trainer, checkpoint, partial: true });
    const env = trainer.env;
    const A = env.spec.numAgents;
    const stats = await createEpisodeStats(engine, {
      env: env.buffers,
      numAgents: A,
      numEnvs,
      label: "eval.stats",
    });
    const step = () => {
      const enc = engine.encoder("eval.step");
      trainer.encodeAct(enc, { greedy });
      env.encodeStep(enc);
      stats.track(enc);
      engine.submit(enc);
    };
    // Env 0's first episode, frame by frame (reads every step: evaluation only).
    const frames: Frame[] = [];
    if (env.render) {
      frames.push({ step: 0, text: await env.render(0), reward: new Array(A).fill(0) });
      for (let t = 1; t <= env.spec.maxSteps; t++) {
        step();
        const [reward, term, trunc] = await readTensors(
          engine,
          [
            env.buffers.reward,
            env.buffers.terminated,
            env.buffers.truncated,
          ] as const,
        );
        const done = term[0] !== 0 || trunc[0] !== 0;
        const text = done ? `(episode over at step ${t}; env 0 auto-reset)` : await env.render(0);
        frames.push({
          step: t,
          text,
          reward: Array.from({ length: A }, (_, a) => reward[a * numEnvs]),
        });
        if (done) break;
      }
    }
    // Then whole episodes of every env until `target` episodes have finished.
    let episodes = 0, lengthSum = 0;
    const returnSum = new Array<number>(A).fill(0);
    const maxRounds = 4 * Math.ceil(target / numEnvs) + 4;
    for (let round = 0; round < maxRounds && episodes < target; round++) {
      if (round > 0 || frames.length === 0) { for (let t = 0; t < env.spec.maxSteps; t++) step(); }
      const enc = engine.encoder("eval.summary");
      stats.summarise(enc);
      engine.submit(enc);
      const [out] = await readTensors(engine, [stats.out] as const);
      const s = stats.decode(out);
      if (s.episodes > 0) {
        episodes += s.episodes;
        lengthSum += s.meanLength * s.episodes;
        s.meanReturnPerAgent.forEach((r, a) => returnSum[a] += r * s.episodes);
      }
    }
    const returnPerAgent = returnSum.map((r) => (episodes > 0 ? r / episodes : NaN));
    const result: EvalResult = {
      task: envLabel(config.env),
      algo: config.algo.name,
      episodes,
      meanReturn: returnPerAgent.reduce((s, v) => s + v, 0) / A,
      returnPerAgent,
      meanLength: episodes > 0 ? lengthSum / episodes : NaN,
      frames,
      html: null,
      loaded,
      skipped,
    };
    const htmlPath = options.html === undefined
      ? `${path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "."}/replay.html`
      : options.html;
    if (htmlPath && frames.length > 0) {
      await writeFileAtomic(htmlPath, new TextEncoder().encode(replayHtml(result)));
      result.html = htmlPath;
    }
    return result;
  } finally {
    if (!options.engine) engine.destroy();
  }
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!,
  );
}

/**
 * A self-contained HTML replay of the recorded frames (slider, play/pause, per-step rewards).
 *
 * @param r An evaluation result with frames.
 * @returns The HTML text.
 */
export function replayHtml(r: EvalResult): string {
  const frames = JSON.stringify(r.frames).replace(/<\//g, "<\\/");
  const summary = `${r.algo} on ${r.task}: ${r.episodes} episodes, mean return ${
    r.meanReturn.toFixed(3)
  } (per agent ${r.returnPerAgent.map((v) => v.toFixed(3)).join(", ")})`;
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Replay · ${escapeHtml(r.algo)} · ${escapeHtml(r.task)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
pre { font: 18px/1.2 ui-monospace, monospace; background: #f6f6f6; padding: 12px; display: inline-block; }
input[type=range] { width: 360px; vertical-align: middle; }
</style></head>
<body>
<h1>Replay of env 0, first episode</h1>
<p>${escapeHtml(summary)}</p>
<p><button id="play">Play</button> <input id="slider" type="range" min="0" value="0"> <span id="label"></span></p>
<pre id="frame"></pre>
<script>
const frames = ${frames};
const slider = document.getElementById("slider"), pre = document.getElementById("frame");
const label = document.getElementById("label"), play = document.getElementById("play");
slider.max = String(frames.length - 1);
function show(i) {
  const f = frames[i];
  pre.textContent = f.text;
  label.textContent = "step " + f.step + " / " + frames[frames.length - 1].step + " · reward " + f.reward.map((v) => v.toFixed(3)).join(", ");
  slider.value = String(i);
}
let timer = null;
play.onclick = () => {
  if (timer) { clearInterval(timer); timer = null; play.textContent = "Play"; return; }
  play.textContent = "Pause";
  timer = setInterval(() => {
    const i = Number(slider.value) + 1;
    if (i >= frames.length) { clearInterval(timer); timer = null; play.textContent = "Play"; return; }
    show(i);
  }, 300);
};
slider.oninput = () => show(Number(slider.value));
show(0);
</script>
</body>
</html>
`;
}

/** Usage of `deno task eval`. */
export const EVAL_USAGE = `Usage: deno task eval <checkpoint | run dir> [options]

Runs a trained policy from a checkpoint, prints returns per agent, shows env 0's first episode as
text and writes an HTML replay next to the checkpoint.

Options:
  --episodes N   episodes to finish (default 20)
  --envs N       parallel envs (default min(training numEnvs, 16))
  --seed N       env reset seed (default training seed + 1)
  --sample       use the behaviour policy instead of greedy actions
  --no-render    do not print the frames
  --no-html      do not write the HTML replay`;

async function evalMain(argv: readonly string[]): Promise<number> {
  try {
    let path: string | null = null, render = true;
    const options: EvalOptions = {};
    const num = (flag: string, v: string | undefined) => {
      const n = Number(v);
      if (v === undefined || !Number.isInteger(n) || n < 0) {
        throw new RangeError(
          `Cannot parse arguments: ${flag} needs an integer >= 0, got "${v ?? ""}"`,
        );
      }
      return n;
    };
    for (let i = 0; i < argv.length; i++) {
      const [a, inline] = argv[i].split(/=(.*)/s, 2);
      const value = () => inline ?? argv[++i];
      if (a === "--help" || a === "-h") {
        console.log(EVAL_USAGE);
        return 0;
      } else if (a === "--episodes") options.episodes = num(a, value());
      else if (a === "--envs") options.numEnvs = num(a, value());
      else if (a === "--seed") options.seed = num(a, value());
      else if (a === "--sample") options.greedy = false;
      else if (a === "--no-render") render = false;
      else if (a === "--no-html") options.html = null;
      else if (a.startsWith("--")) {
        throw new TypeError(`Cannot parse arguments: unknown option "${a}"`);
      } else path = argv[i];
    }
    if (!path) throw new TypeError(`Cannot evaluate: no checkpoint given\n${EVAL_USAGE}`);
    try {
      if ((await Deno.stat(path)).isDirectory) {
        path = `${path.replace(/\/+$/, "")}/checkpoint.safetensors`;
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    const r = await evaluate(path, options);
    if (render) {
      for (const f of r.frames) {
        console.log(`--- step ${f.step}  reward ${f.reward.map((v) => v.toFixed(3)).join(" ")}`);
        console.log(f.text);
      }
    }
    console.log(
      `${r.algo} on ${r.task}: ${r.episodes} episodes, mean length ${r.meanLength.toFixed(1)}`,
    );
    r.returnPerAgent.forEach((v, a) => console.log(`  agent ${a}: mean return ${v.toFixed(4)}`));
    console.log(`  mean over agents: ${r.meanReturn.toFixed(4)}`);
    if (r.skipped.length) {
      console.log(
        `  (not loaded, sized by the training envs or env state: ${r.skipped.join(", ")})`,
      );
    }
    if (r.html) console.log(`replay: ${r.html}`);
    return 0;
  } catch (e) {
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await evalMain(Deno.args));
