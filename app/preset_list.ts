/**
 * `deno task run --list` (a compact table: name, algorithm, env task, env steps and the estimated
 * wall time on this adapter) and `deno task run --list NAME` (one preset's details: its comment
 * block, source, expected result, settings and the estimate's parts). Estimates come from the cost
 * model of app/estimate.ts with this adapter's costs (app/estimate_probe.ts).
 *
 * @module
 */
import { type ExperimentConfig, parseConfig } from "./config.ts";
import { estimateRun, formatEstimate, LONG_RUN_SECONDS } from "./estimate.ts";
import type { AdapterCosts } from "./estimate_probe.ts";
import { findPreset, listPresets, type Preset } from "./presets.ts";
import { envLabel } from "./run_files.ts";

/** A count compactly: `240k`, `50M`, `1.5M`, `800`. */
export function formatSteps(n: number): string {
  const unit = (v: number, s: string) =>
    `${Number.isInteger(v) ? v : v >= 10 ? Math.round(v) : Number(v.toFixed(1))}${s}`;
  if (n >= 1e9) return unit(n / 1e9, "G");
  if (n >= 1e6) return unit(n / 1e6, "M");
  if (n >= 1e3) return unit(n / 1e3, "k");
  return String(n);
}

async function presetConfig(p: Preset): Promise<ExperimentConfig | null> {
  try {
    return await parseConfig(p.text, { source: p.name, warn: () => {} });
  } catch {
    return null;
  }
}

function taskName(config: ExperimentConfig): string {
  return typeof config.env === "string" ? config.env : config.env.name;
}

/**
 * The `--list` table: one row per preset (the default first), columns padded to their widest
 * cell, then a line on where the times come from.
 *
 * @param costs This adapter's costs (app/estimate_probe.ts `adapterCosts`).
 * @param options `defaultPreset` marked "(default)" and listed first.
 * @returns The text (no trailing newline).
 */
export async function presetTableText(
  costs: AdapterCosts,
  options: { defaultPreset?: string } = {},
): Promise<string> {
  const presets = await listPresets();
  const first = options.defaultPreset;
  presets.sort((a, b) => Number(b.name === first) - Number(a.name === first));
  const rows: string[][] = [["preset", "algorithm", "env task", "env steps", "est. time"]];
  let long = 0, bounds = 0;
  for (const p of presets) {
    const config = await presetConfig(p);
    const estimate = config ? estimateRun(config, costs.table, { speed: costs.speed }) : null;
    if (estimate && estimate.seconds > LONG_RUN_SECONDS) long++;
    if (estimate?.lowerBound) bounds++;
    rows.push([
      p.name + (p.name === first ? " (default)" : ""),
      config?.algo.name ?? "(invalid)",
      config ? taskName(config) : "",
      config ? formatSteps(config.totalSteps) : "",
      formatEstimate(estimate),
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const lines = rows.map((r) =>
    r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join("  ").trimEnd()
  );
  lines.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  "));
  lines.push(
    "",
    `Times: estimated on ${costs.adapter ?? "the reference adapter"}: ${costs.basis}.`,
    `${long} of ${presets.length} presets take over an hour here${
      bounds > 0 ? `; ≥: lower bound (influence-predictor training not counted)` : ""
    }. Details: deno task run --list NAME. Shorter: --totalSteps=N.`,
  );
  return lines.join("\n");
}

/**
 * The `--list NAME` text: the preset's comment block, then its settings and estimate.
 *
 * @param name A preset name.
 * @param costs This adapter's costs.
 * @returns The text (no trailing newline).
 */
export async function presetDetailsText(name: string, costs: AdapterCosts): Promise<string> {
  const p = await findPreset(name);
  const config = await presetConfig(p);
  const lines = [p.name, "", ...p.comment.split("\n").map((l) => `  ${l}`.trimEnd()), ""];
  const field = (k: string, v: string) => lines.push(`${k.padEnd(11)} ${v}`);
  field("file", p.path);
  field("source", p.source || "(none given)");
  field("expected", p.expected || "(none given)");
  if (config) {
    field("algorithm", config.algo.name);
    field("env", envLabel(config.env));
    field("numEnvs", String(config.numEnvs));
    field("totalSteps", config.totalSteps.toLocaleString("en-US"));
    const estimate = estimateRun(config, costs.table, { speed: costs.speed });
    if (estimate) {
      const rate = config.totalSteps / estimate.seconds;
      field(
        "est. time",
        `${formatEstimate(estimate)} (~${
          rate >= 100 ? Math.round(rate).toLocaleString("en-US") : rate.toPrecision(2)
        } env steps/s${
          estimate.cost.evalIterations > 0
            ? `, evaluations included (${
              estimate.cost.evalIterations.toLocaleString("en-US")
            } acting iterations)`
            : ""
        }${estimate.lowerBound ? `; not counted: ${estimate.cost.excluded.join(", ")}` : ""})`,
      );
      if (estimate.seconds > LONG_RUN_SECONDS) {
        const perHour = Math.floor(rate * 3600);
        field("shorter", `--totalSteps=${perHour} runs about an hour here`);
      }
    } else field("est. time", `? (no cost calibrated for ${config.algo.name})`);
    field("times", `${costs.adapter ?? "reference adapter"}: ${costs.basis}`);
  } else field("config", "does not validate (deno task run " + p.name + " shows why)");
  field("run", `deno task run ${p.name}`);
  return lines.join("\n");
}
