// The playground page: menus from the library's registries, one session (trainer + engine) at a
// time, and a frame loop that records work (train: `session.train(k)`, watch: `session.watch(k)`),
// then reads one picture of the chosen env (one readback) and draws it with the family's renderer,
// and once a second reads the metrics for the curves (one more readback). Nothing is read inside
// the recorded work. `deno task site` copies this file next to the bundle (dist/marl-webgpu.js),
// the shaders, chart.js (vendor/) and the shipped policies (policies/).
//
// For tests, `globalThis.playground` (test_api.js) exposes the controls and a `snapshot()` of what the page shows;
// `?autostart=0` keeps the page from loading the first shipped policy on its own.
import {
  createPlaygroundSession,
  decodeCheckpoint,
  findTask,
  playgroundConfig,
  playgroundConfigFromCheckpoint,
} from "./dist/marl-webgpu.js";
import { createCharts } from "./charts.js";
import { ensureTaskOption, fillMenus, selectedTask, showNote, taskKey } from "./menus.js";
import { canvasHash } from "./view.js";
import { createTestApi } from "./test_api.js";

const $ = (id) => document.getElementById(id);
const query = new URLSearchParams(location.search);
const ui = {
  status: $("status"),
  env: $("env"),
  algo: $("algo"),
  note: $("algo-note"),
  envs: $("envs"),
  iters: $("iters"),
  fps: $("fps"),
  envIndex: $("env-index"),
  greedy: $("greedy"),
  view: $("view"),
  stats: $("stats"),
  policy: $("policy"),
};
const ctx = ui.view.getContext("2d");

/** What runs now. */
const state = {
  session: null,
  /** "train" | "watch" */
  mode: "train",
  running: false,
  /** Label of the session in the charts. */
  label: "",
  frames: 0,
  lastFrameHash: 0,
  changedFrames: 0,
  lastMetricsAt: 0,
  /** Recent frame times [ms] and env steps, for frames/s and env-steps/s. */
  recent: [],
  episodes: 0,
  /** Watch-mode episodes of this session: count, summed returns and lengths. */
  watched: { episodes: 0, returnSum: 0, lengthSum: 0 },
  lastMetrics: null,
  error: null,
  busy: false,
};

function setStatus(text, error = false) {
  ui.status.textContent = text;
  ui.status.className = error ? "error" : "";
}

function fail(e) {
  state.error = String(e?.stack ?? e);
  state.running = false;
  setStatus(`Failed: ${e?.message ?? e}`, true);
  console.error(e);
}

// ---- sessions ----------------------------------------------------------------------------------

async function startSession(config, label) {
  state.running = false;
  while (state.busy) await sleep(20);
  state.session?.destroy();
  state.session = null;
  setStatus(`Building ${config.algo.name} on ${findTask(config.env).spec.name}…`);
  const session = await createPlaygroundSession(config);
  state.session = session;
  state.label = label;
  state.frames = 0;
  state.changedFrames = 0;
  state.recent = [];
  state.episodes = 0;
  state.watched = { episodes: 0, returnSum: 0, lengthSum: 0 };
  state.lastMetrics = null;
  state.error = null;
  charts.startSeries(label);
  const { width, height } = session.renderer?.size(session.spec) ?? { width: 420, height: 60 };
  const dpr = globalThis.devicePixelRatio || 1;
  ui.view.width = width * dpr;
  ui.view.height = height * dpr;
  ui.view.style.width = `${width}px`;
  ui.view.style.height = `${height}px`;
  if (!session.renderer) {
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = "#f4f4f4";
    ctx.fillRect(0, 0, width, height);
    ctx.fillStyle = "#555";
    ctx.font = "13px sans-serif";
    ctx.fillText("No picture: this trainer's envs are not the task's global simulator", 10, 25);
    ctx.fillText("(DIALS trains on local simulators). The curves still show.", 10, 45);
  }
  ui.envIndex.max = String(session.numEnvs - 1);
  if (Number(ui.envIndex.value) >= session.numEnvs) ui.envIndex.value = "0";
  await drawFrame();
  return session;
}

function currentConfig() {
  return playgroundConfig({
    algo: ui.algo.value,
    env: selectedTask(ui),
    numEnvs: Number(ui.envs.value),
  });
}

function describe(config) {
  return `${config.algo.name} on ${findTask(config.env).spec.name}`;
}

/** The adapter in words (Chrome hides the description unless asked). */
function adapterName(engine) {
  const { description, vendor, architecture } = engine.adapter;
  return [vendor, architecture, description].filter((s) => s && s !== "unknown adapter")
    .join(" ") || "WebGPU adapter";
}

/** Chart label of a session in a mode. */
function seriesLabel(config, mode, source = "") {
  return `${config.algo.name} · ${findTask(config.env).spec.name}${
    source ? ` · ${source}` : ""
  } · ${mode}`;
}

/** Whether the running session was built from the menus' current choice. */
function sessionMatchesMenus() {
  const s = state.session;
  if (!s) return false;
  return s.config.algo.name === ui.algo.value && taskKey(s.config.env) === ui.env.value &&
    s.numEnvs === Number(ui.envs.value);
}

async function train() {
  if (!sessionMatchesMenus()) {
    const config = currentConfig();
    await startSession(config, seriesLabel(config, "train"));
  } else if (state.mode !== "train") {
    charts.startSeries(seriesLabel(state.session.config, "train"));
  }
  state.mode = "train";
  state.running = true;
  setStatus(`Training ${describe(state.session.config)} on ${adapterName(state.session.engine)}.`);
  updateButtons();
}

async function watch() {
  if (!state.session) {
    const config = currentConfig();
    await startSession(config, seriesLabel(config, "watch"));
  } else if (state.mode !== "watch") {
    charts.startSeries(seriesLabel(state.session.config, "watch"));
  }
  state.mode = "watch";
  state.running = true;
  setStatus(`Watching the current policy of ${describe(state.session.config)} (no learning).`);
  updateButtons();
}

async function reset() {
  // Same algorithm and task as the session (a loaded policy's too): keep its hyper-parameters.
  const s = state.session;
  const same = s && s.config.algo.name === ui.algo.value && taskKey(s.config.env) === ui.env.value;
  let config = currentConfig();
  if (same) {
    const { name: _name, ...algoOverrides } = s.config.algo;
    config = playgroundConfig({
      algo: ui.algo.value,
      env: selectedTask(ui),
      numEnvs: Number(ui.envs.value),
      algoOverrides,
    });
  }
  await startSession(config, seriesLabel(config, "train"));
  state.mode = "train";
  state.running = false;
  setStatus(`Ready: ${describe(config)}, fresh networks. Press Train.`);
  updateButtons();
}

function pause() {
  if (!state.session) return;
  state.running = !state.running;
  updateButtons();
}

async function loadCheckpointBytes(bytes, name) {
  const checkpoint = decodeCheckpoint(bytes, name);
  const config = playgroundConfigFromCheckpoint(checkpoint.config, Number(ui.envs.value));
  ensureTaskOption(ui, config.env);
  ui.algo.value = config.algo.name;
  showNote(ui);
  const session = await startSession(config, seriesLabel(config, "watch", name));
  const { loaded } = session.loadPolicy(checkpoint);
  state.mode = "watch";
  state.running = true;
  ui.iters.value = "1";
  updateButtons();
  setStatus(
    `Watching ${describe(config)} from ${name} (${loaded.length} tensor${
      loaded.length === 1 ? "" : "s"
    } loaded, trained ${
      checkpoint.metadata.envSteps ?? "?"
    } env steps). Press Train to go on learning, or Reset to start from scratch.`,
  );
  return { loaded };
}

async function loadShipped(file) {
  const res = await fetch(`./policies/${file}`);
  if (!res.ok) throw new Error(`Cannot load policy "${file}": the server answered ${res.status}`);
  return await loadCheckpointBytes(new Uint8Array(await res.arrayBuffer()), file);
}

async function download(policyOnly) {
  const s = state.session;
  if (!s) return;
  const bytes = await s.checkpoint({ policyOnly });
  const blob = new Blob([bytes], { type: "application/octet-stream" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = `${s.config.algo.name}_${s.spec.name}_${s.trainer.envSteps}${
    policyOnly ? "_policy" : ""
  }.safetensors`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

function updateButtons() {
  $("pause").textContent = state.running ? "Pause" : "Resume";
  $("pause").disabled = !state.session;
  $("download").disabled = !state.session;
  $("download-policy").disabled = !state.session;
}

// ---- frames ------------------------------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function drawFrame() {
  const s = state.session;
  if (!s?.renderer) return;
  const envIndex = Math.min(Math.max(0, Number(ui.envIndex.value) | 0), s.numEnvs - 1);
  const frame = await s.readFrame(envIndex);
  if (state.session !== s) return;
  const dpr = globalThis.devicePixelRatio || 1;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  s.renderer.draw(ctx, frame);
  const h = canvasHash(ctx, ui.view);
  if (h !== state.lastFrameHash) state.changedFrames++;
  state.lastFrameHash = h;
  state.frames++;
}

async function readMetrics() {
  const s = state.session;
  const m = await s.readMetrics();
  if (state.session !== s) return;
  state.lastMetrics = m;
  state.episodes += m.episodes;
  if (m.mode === "watch" && m.episodes > 0) {
    state.watched.episodes += m.episodes;
    state.watched.returnSum += m.meanReturn * m.episodes;
    state.watched.lengthSum += m.meanLength * m.episodes;
  }
  charts.add(m);
}

function showStats() {
  const s = state.session;
  if (!s) return;
  const r = state.recent;
  let fps = 0, sps = 0;
  if (r.length >= 2) {
    const dt = (r[r.length - 1].t - r[0].t) / 1000;
    fps = (r.length - 1) / dt;
    sps = (r[r.length - 1].steps - r[0].steps) / dt;
  }
  state.fps = fps;
  state.stepsPerSecond = sps;
  const m = state.lastMetrics;
  const ret = m && Number.isFinite(m.meanReturn) ? m.meanReturn.toFixed(3) : "–";
  ui.stats.textContent = `${
    state.running ? state.mode : "paused"
  } · trained ${s.trainer.envSteps.toLocaleString()} env steps · watched ${s.watchSteps.toLocaleString()} · episodes ${state.episodes} · last return ${ret} · ${
    fps.toFixed(1)
  } frames/s · ${Math.round(sps).toLocaleString()} env steps/s`;
}

async function loop() {
  for (;;) {
    const s = state.session;
    if (!s || !state.running) {
      await sleep(100);
      continue;
    }
    const t0 = performance.now();
    state.busy = true;
    try {
      const work = Number(ui.iters.value);
      if (state.mode === "train") s.train(work);
      else s.watch(work, { greedy: ui.greedy.checked });
      await drawFrame();
      const now = performance.now();
      state.recent.push({ t: now, steps: s.trainer.envSteps + s.watchSteps });
      if (state.recent.length > 20) state.recent.shift();
      // Without a picture the metrics read is the frame's one readback (it paces the GPU).
      if (!s.renderer || now - state.lastMetricsAt >= 1000) {
        state.lastMetricsAt = now;
        await readMetrics();
      }
      showStats();
    } catch (e) {
      fail(e);
    } finally {
      state.busy = false;
    }
    const wait = 1000 / Number(ui.fps.value) - (performance.now() - t0);
    await sleep(Math.max(0, wait));
  }
}

const charts = createCharts(globalThis.Chart, {
  ret: $("chart-return"),
  len: $("chart-length"),
  loss: $("chart-loss"),
});

// ---- start -------------------------------------------------------------------------------------

/** Runs an async UI action, reporting failures in the status line. */
function action(fn) {
  return (...args) => fn(...args).catch(fail);
}

async function shippedPolicies() {
  try {
    const res = await fetch("./policies/policies.json");
    if (!res.ok) return [];
    return await res.json();
  } catch {
    return [];
  }
}

async function main() {
  if (!navigator.gpu) {
    throw new Error(
      "This page needs WebGPU, and this browser does not offer it (navigator.gpu is missing). Use a recent Chrome or Edge (113 or later), or Safari or Firefox with WebGPU turned on, over https or on localhost.",
    );
  }
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) {
    throw new Error(
      "This page needs WebGPU: the browser has it, but offers no GPU adapter here (it may be blocked or turned off; see chrome://gpu).",
    );
  }
  fillMenus(ui);
  const policies = await shippedPolicies();
  for (const p of policies) ui.policy.add(new Option(p.title, p.file));
  if (policies.length === 0) ui.policy.add(new Option("(none shipped)", ""));
  $("train").onclick = action(train);
  $("watch").onclick = action(watch);
  $("pause").onclick = pause;
  $("reset").onclick = action(reset);
  $("load-shipped").onclick = action(() => loadShipped(ui.policy.value));
  $("load-file").onchange = action(async (e) => {
    const file = e.target.files?.[0];
    if (file) await loadCheckpointBytes(new Uint8Array(await file.arrayBuffer()), file.name);
  });
  $("download").onclick = action(() => download(false));
  $("download-policy").onclick = action(() => download(true));
  $("clear-charts").onclick = () => {
    charts.clear();
    if (state.session) charts.startSeries(seriesLabel(state.session.config, state.mode));
  };
  ui.envs.onchange = () => setStatus("Envs changed: press Train (or Reset) to rebuild.");
  updateButtons();
  loop();
  if (query.get("autostart") !== "0" && policies.length > 0) {
    await loadShipped(policies[0].file);
  } else {
    setStatus("Ready. Pick an environment and an algorithm, then press Train.");
  }
}

globalThis.playground = createTestApi({
  state,
  ui,
  charts,
  actions: { train, watch, reset, loadShipped, shippedPolicies, updateButtons },
  adapterName,
});
globalThis.playground.ready = main().then(() => true, (e) => {
  if (/WebGPU/.test(String(e?.message))) {
    $("nogpu").hidden = false;
    $("nogpu").textContent = e.message;
    setStatus("");
    for (
      const el of document.querySelectorAll("#controls button, #controls select, #controls input")
    ) {
      el.disabled = true;
    }
    state.error = e.message;
    return false;
  }
  fail(e);
  return false;
});
