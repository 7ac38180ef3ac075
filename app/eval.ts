/**
 * Evaluation of a checkpoint (`deno task eval <checkpoint>`): rebuilds the run from the
 * checkpoint's metadata (config), loads the weights, and evaluates the policy with the run's
 * evaluation protocol (`config.eval`: episodes, policy, returns, envs, seed; each can be
 * overridden) on separate evaluation envs, exactly as training evaluates
 * (`algorithms/evaluation.ts`: exactly `episodes` episodes, one readback), and reports the
 * protocol's number under the paper's name, with returns per agent. `best.safetensors` (the best
 * model of a run with `eval.best`) is evaluated the same way. Env 0's first episode (on the
 * trainer's own env) is recorded as text frames (`env.render`), printed to the terminal, and
 * written as a self-contained HTML replay drawn on a canvas by the family's renderer (the
 * playground's, envs/renderers.ts; text frames for families without one).
 *
 * Families that cannot act on separate envs (DIALS, whose evaluation runs inside training) run the
 * old loop on the trainer's own env: whole rounds of `maxSteps` steps until at least `episodes`
 * episodes have finished.
 *
 * @module
 */
import { createEngine, type Engine } from "../engine/device.ts";
import { readTensors } from "../engine/readback.ts";
import { readCheckpoint, restoreCheckpoint, writeFileAtomic } from "./checkpoint.ts";
import { validateConfig } from "./config.ts";
import { createEpisodeStats } from "../algorithms/episode_stats.ts";
import { createEvaluation, evalValue } from "../algorithms/evaluation.ts";
import { findAlgorithm } from "../algorithms/mod.ts";
import { type EvalConfig, evalNames, type Trainer } from "../algorithms/trainer.ts";
import { envLabel, RUN_FILES } from "./run_files.ts";
import { evalProtocolOf } from "./train_loop.ts";
import { replayCanvasHtml, type ReplayFrame } from "./replay_html.ts";
import { type EnvRenderer, sliceEnvFrame } from "../envs/draw.ts";
import { findRenderer } from "../envs/renderers.ts";

/** Options of {@linkcode evaluate}; each defaults to the run's evaluation protocol. */
export interface EvalOptions {
  /** Episodes to evaluate. Default the protocol's (`config.eval.episodes`). */
  episodes?: number;
  /** Parallel evaluation envs. Default the protocol's. */
  numEnvs?: number;
  /** Greedy actions (true) or the stochastic policy. Default the protocol's policy. */
  greedy?: boolean;
  /** team: returns summed over agents; agent: mean per agent. Default the protocol's. */
  returns?: EvalConfig["returns"];
  /** Env reset seed. Default the training seed + the protocol's seed offset (as in training). */
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
  /** The number's name, as the paper names it (best model: the best-model name). */
  protocol: string;
  /** The protocol's number: team or per-agent mean return over the episodes. */
  value: number;
  /** The settings used. */
  policy: EvalConfig["policy"];
  returns: EvalConfig["returns"];
  episodes: number;
  /** Mean over agents of the per-agent mean returns. */
  meanReturn: number;
  returnPerAgent: number[];
  meanLength: number;
  /** The evaluation the best model was saved at (its metrics-row `eval`), when one was read. */
  savedEval: unknown;
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
 * @param path Checkpoint file (`checkpoint.safetensors` or `best.safetensors` of a run).
 * @param options Episodes, envs, policy, returns, seed, HTML path, engine.
 * @returns The protocol's number, returns per agent, frames and the replay path.
 */
export async function evaluate(path: string, options: EvalOptions = {}): Promise<EvalResult> {
  const checkpoint = await readCheckpoint(path);
  const trained = validateConfig(checkpoint.config, `${path} (metadata)`);
  const p = trained.eval;
  const episodes = options.episodes ?? p.episodes;
  if (!Number.isInteger(episodes) || episodes < 1) {
    throw new RangeError(
      `Cannot evaluate "${path}": episodes must be an integer >= 1, got ${episodes}`,
    );
  }
  const seed = options.seed ?? (trained.seed + p.seed) >>> 0;
  const evalConfig: EvalConfig = {
    ...p,
    episodes,
    envs: options.numEnvs ?? p.envs,
    policy: options.greedy === undefined ? p.policy : options.greedy ? "greedy" : "stochastic",
    returns: options.returns ?? p.returns,
    seed: (seed - trained.seed) >>> 0,
  };
  const protocol = evalProtocolOf(trained);
  const savedEval = checkpoint.metadata.eval ? JSON.parse(checkpoint.metadata.eval) : null;
  const names = evalNames(protocol, evalConfig);
  // The trainer acts only for the replay (and for families without separate evaluation envs).
  const trainerEnvs = Math.min(trained.numEnvs, 16);
  const config = validateConfig(
    { ...structuredClone(trained), numEnvs: trainerEnvs, seed },
    `${path} (metadata)`,
  );
  const greedy = evalConfig.policy === "greedy";
  const engine = options.engine ?? await createEngine();
  try {
    const def = findAlgorithm(config.algo.name)!;
    const { name: _n, ...algo } = config.algo;
    const trainer = await def.create(engine, config, algo);
    const { loaded, skipped } = restoreCheckpoint(engine, { trainer, checkpoint, partial: true });
    const env = trainer.env;
    const A = env.spec.numAgents;
    const { frames, canvas } = await recordFrames(engine, trainer, greedy);
    let episodesDone: number, returnPerAgent: number[], meanLength: number;
    if (trainer.createEvalActor && protocol.runner === "evaluator") {
      const evaluation = await createEvaluation(engine, trainer, {
        run: trained,
        config: evalConfig,
      });
      const r = await evaluation.run(trainer.envSteps);
      episodesDone = r.episodes;
      returnPerAgent = r.returnPerAgent;
      meanLength = r.meanLength;
    } else {
      ({ episodesDone, returnPerAgent, meanLength } = await evaluateOnTrainerEnv(
        engine,
        trainer,
        { episodes, greedy, replayed: frames.length > 0 },
      ));
    }
    const summary = { episodes: episodesDone, meanReturnPerAgent: returnPerAgent };
    const result: EvalResult = {
      task: envLabel(config.env),
      algo: config.algo.name,
      protocol: savedEval ? names.best : names.value,
      value: evalValue({ ...summary, meanReturn: NaN, meanLength }, evalConfig.returns),
      policy: evalConfig.policy,
      returns: evalConfig.returns,
      episodes: episodesDone,
      meanReturn: returnPerAgent.reduce((s, v) => s + v, 0) / A,
      returnPerAgent,
      meanLength,
      savedEval,
      frames,
      html: null,
      loaded,
      skipped,
    };
    const htmlPath = options.html === undefined
      ? `${path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "."}/replay.html`
      : options.html;
    if (htmlPath && frames.length > 0) {
      const html = canvas.length > 0
        ? replayCanvasHtml({
          spec: trainer.env.spec,
          frames: canvas,
          title: `${result.algo} on ${result.task}`,
          summary: replaySummary(result),
        })
        : replayHtml(result);
      await writeFileAtomic(htmlPath, new TextEncoder().encode(html));
      result.html = htmlPath;
    }
    return result;
  } finally {
    if (!options.engine) engine.destroy();
  }
}

/** The renderer of `env`'s family when its state has the sizes the renderer draws, else null. */
function rendererFor(env: Trainer["env"]): EnvRenderer | null {
  const renderer = findRenderer(env.spec.family);
  if (!renderer) return null;
  const state = env.stateTensors();
  const words = renderer.stateWords(env.spec);
  const fits = renderer.tensors.every((n) =>
    state[n] !== undefined && state[n].size === words[n] * env.numEnvs
  );
  return fits ? renderer : null;
}

/**
 * Env 0's first episode on the trainer's env, frame by frame (reads every step: evaluation only):
 * text pictures (`env.render`) and, where the family has a canvas renderer (envs/renderers.ts, the
 * playground's), env 0's state words for a canvas replay.
 */
async function recordFrames(engine: Engine, trainer: Trainer, greedy: boolean) {
  const env = trainer.env, A = env.spec.numAgents, numEnvs = env.numEnvs;
  const frames: Frame[] = [];
  const canvas: ReplayFrame[] = [];
  if (!env.render) return { frames, canvas };
  const renderer = rendererFor(env);
  const names = renderer?.tensors ?? [];
  const stateTensors = names.map((n) => env.stateTensors()[n]);
  const stateOf = (arrays: readonly ArrayLike<number>[]) =>
    sliceEnvFrame({
      spec: env.spec,
      state: Object.fromEntries(names.map((n, i) => [n, Uint32Array.from(arrays[i])])),
      numEnvs,
      envIndex: 0,
    }).state;
  const zeros = new Array(A).fill(0);
  frames.push({ step: 0, text: await env.render(0), reward: zeros });
  if (renderer) {
    canvas.push({
      step: 0,
      reward: zeros,
      state: stateOf(await readTensors(engine, stateTensors)),
    });
  }
  for (let t = 1; t <= env.spec.maxSteps; t++) {
    const enc = engine.encoder("eval.frame");
    trainer.encodeAct(enc, { greedy });
    env.encodeStep(enc);
    engine.submit(enc);
    const [reward, term, trunc, ...state] = await readTensors(
      engine,
      [env.buffers.reward, env.buffers.terminated, env.buffers.truncated, ...stateTensors],
    );
    const done = term[0] !== 0 || trunc[0] !== 0;
    const text = done ? `(episode over at step ${t}; env 0 auto-reset)` : await env.render(0);
    const r = Array.from({ length: A }, (_, a) => reward[a * numEnvs]);
    frames.push({ step: t, text, reward: r });
    // At an episode's end env 0 has already reset: the last picture stays the last state seen.
    if (renderer) {
      canvas.push({ step: t, reward: r, state: done ? canvas.at(-1)!.state : stateOf(state) });
    }
    if (done) break;
  }
  return { frames, canvas };
}

/**
 * Whole rounds of `maxSteps` steps of every env of the trainer until at least `episodes` episodes
 * finished (families without separate evaluation envs).
 */
async function evaluateOnTrainerEnv(
  engine: Engine,
  trainer: Trainer,
  o: { episodes: number; greedy: boolean; replayed: boolean },
): Promise<{ episodesDone: number; returnPerAgent: number[]; meanLength: number }> {
  const env = trainer.env, A = env.spec.numAgents, numEnvs = env.numEnvs;
  const stats = await createEpisodeStats(engine, {
    env: env.buffers,
    numAgents: A,
    numEnvs,
    label: "eval.stats",
  });
  // The replay's steps were not tracked: start from reset envs.
  if (o.replayed) {
    const enc = engine.encoder("eval.reset");
    env.encodeReset(enc);
    engine.submit(enc);
  }
  let episodes = 0, lengthSum = 0;
  const returnSum = new Array<number>(A).fill(0);
  const maxRounds = 4 * Math.ceil(o.episodes / numEnvs) + 4;
  for (let round = 0; round < maxRounds && episodes < o.episodes; round++) {
    const enc = engine.encoder("eval.round");
    for (let t = 0; t < env.spec.maxSteps; t++) {
      trainer.encodeAct(enc, { greedy: o.greedy });
      env.encodeStep(enc);
      stats.track(enc);
    }
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
  return {
    episodesDone: episodes,
    returnPerAgent: returnSum.map((r) => (episodes > 0 ? r / episodes : NaN)),
    meanLength: episodes > 0 ? lengthSum / episodes : NaN,
  };
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!,
  );
}

/** The replay pages' one-line summary: the protocol's number and the returns per agent. */
function replaySummary(r: EvalResult): string {
  return `${r.algo} on ${r.task}: ${r.protocol}: ${r.value.toFixed(3)} (per agent ${
    r.returnPerAgent.map((v) => v.toFixed(3)).join(", ")
  })`;
}

/**
 * A self-contained HTML replay of the recorded text frames (slider, play/pause, per-step rewards),
 * for envs without a canvas renderer.
 *
 * @param r An evaluation result with frames.
 * @returns The HTML text.
 */
export function replayHtml(r: EvalResult): string {
  const frames = JSON.stringify(r.frames).replace(/<\//g, "<\\/");
  const summary = replaySummary(r);
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

Evaluates a trained policy from a checkpoint with the run's evaluation protocol (the config's
eval section: the paper's episodes, policy and returns unless changed), prints the protocol's
number under the paper's name and the returns per agent, shows env 0's first episode as text and
writes an HTML replay next to the checkpoint.

Options:
  --best           evaluate <run dir>/best.safetensors (the best model of a run with eval.best)
  --episodes N     episodes to evaluate (default the protocol's)
  --envs N         parallel evaluation envs (default the protocol's)
  --seed N         env reset seed (default training seed + the protocol's seed offset)
  --sample         the stochastic policy (default the protocol's policy)
  --greedy         greedy actions
  --returns R      team (summed over agents) or agent (mean per agent); default the protocol's
  --no-render      do not print the frames
  --no-html        do not write the HTML replay`;

async function evalMain(argv: readonly string[]): Promise<number> {
  try {
    let path: string | null = null, render = true, best = false;
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
      else if (a === "--greedy") options.greedy = true;
      else if (a === "--best") best = true;
      else if (a === "--returns") {
        const v = value();
        if (v !== "team" && v !== "agent") {
          throw new RangeError(`Cannot parse arguments: --returns needs team or agent, got "${v}"`);
        }
        options.returns = v;
      } else if (a === "--no-render") render = false;
      else if (a === "--no-html") options.html = null;
      else if (a.startsWith("--")) {
        throw new TypeError(`Cannot parse arguments: unknown option "${a}"`);
      } else path = argv[i];
    }
    if (!path) throw new TypeError(`Cannot evaluate: no checkpoint given\n${EVAL_USAGE}`);
    try {
      if ((await Deno.stat(path)).isDirectory) {
        path = `${path.replace(/\/+$/, "")}/${best ? RUN_FILES.best : RUN_FILES.checkpoint}`;
      } else if (best) {
        throw new TypeError(`Cannot evaluate: --best needs a run folder, got "${path}"`);
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
    console.log(`  ${r.protocol}: ${r.value.toFixed(4)}`);
    r.returnPerAgent.forEach((v, a) => console.log(`  agent ${a}: mean return ${v.toFixed(4)}`));
    const saved = r.savedEval as { best?: { value: number; envSteps: number } } | null;
    if (saved?.best) {
      console.log(
        `  (saved at ${saved.best.envSteps} env steps, where training's evaluation gave ${
          saved.best.value.toFixed(4)
        })`,
      );
    }
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
