// The browser example: reads the settings from the query string, trains with the bundled library
// (dist/marl-webgpu.js, built by `deno task bundle`) and shows one table row per log interval.
// With `report=<url>` it also POSTs {adapter, rows} (or {error}) as JSON to that URL when done
// (tests/web_test.ts uses it).
import {
  buildEvaluation,
  buildTrainer,
  createEngine,
  trainLoop,
  validateConfig,
} from "../../dist/marl-webgpu.js";

const q = new URLSearchParams(location.search);
const status = document.getElementById("status");
const table = document.getElementById("rows");
const report = q.get("report");
// The form shows the settings in use; submitting it reloads the page with the new query.
const form = document.getElementById("settings");
for (const el of form.elements) if (el.name && q.has(el.name)) el.value = q.get(el.name);

/** Query value as JSON when it parses (numbers, booleans, arrays), else as a string. */
function value(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function main() {
  const algo = { name: q.get("algo") ?? "seac" };
  for (const [k, v] of q) if (k.startsWith("algo.")) algo[k.slice(5)] = value(v);
  // eval.<field>=… changes the algorithm's evaluation protocol (eval.interval=0 turns it off).
  const evalSection = {};
  for (const [k, v] of q) if (k.startsWith("eval.")) evalSection[k.slice(5)] = value(v);
  const steps = Number(q.get("steps") ?? 96_000);
  const config = validateConfig({
    env: q.get("env") ?? "Foraging-5x5-2p-1f",
    numEnvs: Number(q.get("envs") ?? 32),
    totalSteps: steps,
    seed: Number(q.get("seed") ?? 1),
    algo,
    log: { interval: Number(q.get("interval") ?? Math.max(1, steps / 12)), checkpointEvery: 0 },
    ...(Object.keys(evalSection).length > 0 ? { eval: evalSection } : {}),
  }, "query string");
  // `maxStorageBuffers=8` caps the device at the WebGPU minimum (as strict adapters do).
  const cap = q.get("maxStorageBuffers");
  const engine = await createEngine(cap ? { maxStorageBuffers: Number(cap) } : {});
  try {
    const { description, vendor, architecture } = engine.adapter;
    const adapter = [vendor, architecture, description].filter((s) => s && s !== "unknown adapter")
      .join(" ") || "WebGPU adapter";
    status.textContent = `Building ${algo.name} on ${config.env} (${adapter})…`;
    const trainer = await buildTrainer(engine, config);
    status.textContent = `Training ${algo.name} on ${config.env} (${adapter})…`;
    const evaluation = await buildEvaluation(engine, trainer, config);
    const { rows } = await trainLoop(trainer, config, {
      evaluation,
      onRow(row) {
        const tr = table.insertRow();
        let ret = Number.isFinite(row.meanReturn) ? row.meanReturn.toFixed(3) : "–";
        if (row.eval) ret += ` (${row.eval.protocol}: ${row.eval.value.toFixed(3)})`;
        for (const v of [row.envSteps, row.episodes, ret, row.stepsPerSecond.toFixed(0)]) {
          tr.insertCell().textContent = String(v);
        }
      },
    });
    status.textContent = `Done: ${rows.at(-1)?.envSteps ?? 0} env steps on ${adapter}.`;
    return { adapter, limits: engine.adapter.limits, rows };
  } finally {
    engine.destroy();
  }
}

main().then(
  (result) => report && fetch(report, { method: "POST", body: JSON.stringify(result) }),
  (error) => {
    status.textContent = `Failed: ${error.message}`;
    status.className = "error";
    console.error(error);
    if (report) {
      fetch(report, {
        method: "POST",
        body: JSON.stringify({ error: String(error.stack ?? error) }),
      });
    }
  },
);
