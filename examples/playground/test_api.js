// The page's test hook (`globalThis.playground`): the controls as functions, and a snapshot of
// what the page shows (session, frames, pixels, chart points, frames/s, env steps/s, errors) for
// tests/playground_test.ts, which drives the page over the DevTools protocol.
import { fillAlgorithms, showNote, taskKey } from "./menus.js";
import { inkedPixels } from "./view.js";

/**
 * Builds the hook from the page's parts.
 *
 * @param parts The page `state`, its `ui` elements, the `charts`, the `actions` and `adapterName`.
 */
export function createTestApi({ state, ui, charts, actions, adapterName }) {
  return {
    ready: null,
    set(settings) {
      if (settings.env !== undefined) {
        ui.env.value = taskKey(settings.env);
        fillAlgorithms(ui);
      }
      if (settings.algo !== undefined) ui.algo.value = settings.algo, showNote(ui);
      for (const k of ["envs", "iters", "fps"]) {
        if (settings[k] !== undefined) ui[k].value = String(settings[k]);
      }
      if (settings.greedy !== undefined) ui.greedy.checked = settings.greedy;
    },
    train: () => actions.train(),
    watch: () => actions.watch(),
    reset: () => actions.reset(),
    pause: () => {
      state.running = false;
      actions.updateButtons();
    },
    loadShipped: (file) => actions.loadShipped(file),
    policies: () => actions.shippedPolicies(),
    snapshot() {
      const s = state.session;
      return {
        running: state.running,
        mode: state.mode,
        task: s?.spec.name ?? null,
        algo: s?.config.algo.name ?? null,
        numEnvs: s?.numEnvs ?? 0,
        envSteps: s?.trainer.envSteps ?? 0,
        watchSteps: s?.watchSteps ?? 0,
        episodes: state.episodes,
        lastMetrics: state.lastMetrics,
        watched: {
          episodes: state.watched.episodes,
          meanReturn: state.watched.returnSum / Math.max(1, state.watched.episodes),
          meanLength: state.watched.lengthSum / Math.max(1, state.watched.episodes),
        },
        frames: state.frames,
        changedFrames: state.changedFrames,
        fps: state.fps ?? 0,
        stepsPerSecond: state.stepsPerSecond ?? 0,
        inkedPixels: s ? inkedPixels(ui.view.getContext("2d"), ui.view) : 0,
        canvas: { width: ui.view.width, height: ui.view.height },
        chartPoints: charts.points(),
        charts: Boolean(globalThis.Chart),
        status: ui.status.textContent,
        error: state.error,
        limits: s
          ? { maxStorageBuffersPerShaderStage: s.engine.limit("maxStorageBuffersPerShaderStage") }
          : null,
        adapter: s ? adapterName(s.engine) : null,
      };
    },
  };
}
