// The playground's menus: tasks from PLAYGROUND_TASKS, and the algorithms that fit the chosen one.
import { PLAYGROUND_ALGORITHMS, PLAYGROUND_TASKS, playgroundFits } from "./dist/marl-webgpu.js";

/** The value of a task's option: its `env` as JSON. */
export const taskKey = (env) => JSON.stringify(env);

/** Fills the task menu and the algorithms that fit the chosen task. */
export function fillMenus(ui) {
  for (const t of PLAYGROUND_TASKS) ui.env.add(new Option(t.label, taskKey(t.env)));
  ui.env.onchange = () => fillAlgorithms(ui);
  ui.algo.onchange = () => showNote(ui);
  fillAlgorithms(ui);
}

/** The chosen task's `env`. */
export function selectedTask(ui) {
  return JSON.parse(ui.env.value);
}

/** Lists the algorithms that fit the chosen task, keeping the choice when it still fits. */
export function fillAlgorithms(ui) {
  const keep = ui.algo.value || "seac";
  ui.algo.length = 0;
  for (const name of Object.keys(PLAYGROUND_ALGORITHMS)) {
    if (playgroundFits(name, selectedTask(ui))) ui.algo.add(new Option(name, name));
  }
  ui.algo.value = [...ui.algo.options].some((o) => o.value === keep) ? keep : "seac";
  if (!ui.algo.value) ui.algo.selectedIndex = 0;
  showNote(ui);
}

/** Shows the chosen algorithm's note and its default watch mode (greedy or sampled). */
export function showNote(ui) {
  const a = PLAYGROUND_ALGORITHMS[ui.algo.value];
  ui.note.textContent = a ? a.note : "";
  ui.greedy.checked = Boolean(a?.greedy);
}

/** Chooses a task, adding it to the menu when it is not offered there (a loaded checkpoint's). */
export function ensureTaskOption(ui, env) {
  const key = taskKey(env);
  if (![...ui.env.options].some((o) => o.value === key)) {
    ui.env.add(new Option(typeof env === "string" ? env : env.name, key));
  }
  ui.env.value = key;
  fillAlgorithms(ui);
}
