import { deepStrictEqual as assertEquals, match, ok as assert } from "node:assert/strict";
import { parseConfig } from "../../app/config.ts";
import { costOf, estimateRun, LONG_RUN_SECONDS, REFERENCE_COSTS } from "../../app/estimate.ts";
import {
  type AdapterCosts,
  adapterCosts,
  longRunWarning,
  probeConfig,
  REPRESENTATIVES,
  saveCalibration,
} from "../../app/estimate_probe.ts";
import { findPreset, listPresets } from "../../app/presets.ts";
import { SKIP_GPU } from "../_testing.ts";

async function preset(name: string, overrides: [string, string][] = []) {
  return await parseConfig((await findPreset(name)).text, { overrides, warn: () => {} });
}

const REFERENCE: AdapterCosts = {
  adapter: "test adapter",
  table: REFERENCE_COSTS,
  speed: 1,
  basis: "test",
};

Deno.test("costOf() counts the iteration's env steps and prices GRU policies apart", async () => {
  const quick = costOf(await preset("seac_quick"));
  assertEquals([quick.key, quick.stepsPerIteration, quick.evalIterations], ["seac", 160, 0]);
  const dials = costOf(await preset("dials_warehouse_4"));
  assertEquals([dials.key, dials.stepsPerIteration, dials.excluded], [
    "dials:gru",
    128,
    ["influence-predictor training"],
  ]);
  assertEquals(costOf(await preset("dials_traffic_4")).key, "dials");
  // SEAC learns from every agent's data: more work than IAC with the same sizes.
  assert(
    costOf(await preset("seac_rware_tiny_4ag")).units >
      costOf(await preset("iac_rware_tiny_4ag")).units,
  );
});

Deno.test("every preset gets an estimate, and every table entry has a representative", async () => {
  for (const p of await listPresets()) {
    const config = await parseConfig(p.text, { warn: () => {} });
    const e = estimateRun(config);
    assert(e !== null && Number.isFinite(e.seconds) && e.seconds > 0, p.name);
    assertEquals(e.lowerBound, config.algo.name === "dials", p.name);
  }
  assertEquals(Object.keys(REPRESENTATIVES).sort(), Object.keys(REFERENCE_COSTS.algorithms).sort());
});

Deno.test("estimateRun() grows with the budget and the adapter's slowness", async () => {
  const small = await preset("seac_rware_tiny_4ag", [["totalSteps", "100000"]]);
  const big = await preset("seac_rware_tiny_4ag", [["totalSteps", "200000"]]);
  const [a, b] = [estimateRun(small)!, estimateRun(big)!];
  const build = REFERENCE_COSTS.algorithms.seac.build;
  assert(Math.abs((b.seconds - build) / (a.seconds - build) - 2) < 1e-9, "linear in steps");
  assertEquals(estimateRun(small, REFERENCE_COSTS, { speed: 3 })!.seconds, 3 * a.seconds);
  const none = { ...REFERENCE_COSTS, algorithms: {} };
  assertEquals(estimateRun(small, none), null);
});

Deno.test("longRunWarning() speaks up only above an hour", async () => {
  assertEquals(await longRunWarning(await preset("seac_quick"), { costs: REFERENCE }), null);
  const long = await preset("seac_rware_tiny_4ag");
  assert(estimateRun(long)!.seconds > LONG_RUN_SECONDS);
  const text = await longRunWarning(long, { costs: REFERENCE, label: "seac_rware_tiny_4ag" });
  match(
    text!,
    /^seac_rware_tiny_4ag is estimated to take [\d.]+h on test adapter \(40,000,000 env steps at ~[\d,]+ steps\/s\); lower --totalSteps for a shorter run, or see deno task run --list$/,
  );
  const dials = await longRunWarning(await preset("dials_warehouse_4"), { costs: REFERENCE });
  match(dials!, /^this run is estimated to take ≥.*, not counting influence-predictor training\)/);
});

Deno.test("probeConfig() times learning: no warm-up, no periodic evaluation or AIP training", async () => {
  const iql = probeConfig(await preset("iql_lbf"), 16);
  assertEquals(iql.numEnvs, 16);
  if (iql.algo.name === "iql") {
    assertEquals([iql.algo.learningStarts, iql.algo.randomSteps], [0, 0]);
  }
  const dials = probeConfig(await preset("dials_warehouse_4"), 16);
  if (dials.algo.name === "dials") {
    assertEquals([dials.algo.trainAips, dials.algo.evalFreq], [false, 2 ** 40]);
  }
});

Deno.test({
  name: "adapterCosts() uses a calibration cached for this adapter, else the reference",
  ignore: SKIP_GPU,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const plain = await adapterCosts({ cacheDir: dir, probe: false });
      assertEquals([plain.table, plain.speed], [REFERENCE_COSTS, 1]);
      match(plain.basis, /not yet scaled to this adapter/);
      const table = { adapter: plain.adapter!, measured: "2025-01-01", algorithms: {} };
      await saveCalibration(table, { cacheDir: dir });
      const own = await adapterCosts({ cacheDir: dir, probe: false });
      assertEquals([own.table, own.speed], [table, 1]);
      match(own.basis, /^calibrated on this adapter \(2025-01-01/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
