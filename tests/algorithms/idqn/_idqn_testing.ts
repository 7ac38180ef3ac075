// Shared checks of the IDQN-family learning-step and learning smoke tests (idqn, SUPER, LBS).
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { parseYaml } from "../../../app/config.ts";
import type { Preset } from "../../../app/presets.ts";
import type { Metrics, RunConfig, Trainer } from "../../../algorithms/trainer.ts";
import { assertAllClose } from "../../_testing.ts";

/**
 * Compares parameters after one Adam step with the reference's. Adam's first step is ±lr·clip
 * per parameter where |g| ≫ eps, so only parameters whose reference gradient is not within f32
 * noise of zero are compared (elsewhere the sign of a ~0 gradient decides the step); most must be.
 */
export function assertAdamStepClose(
  gpuParams: ArrayLike<number>,
  ref: { grads: ArrayLike<number> },
  refParams: ArrayLike<number>,
  lr: number,
): void {
  const grads = Array.from(ref.grads);
  const gmax = Math.max(...grads.map(Math.abs));
  const keep = [...grads.keys()].filter((i) => Math.abs(grads[i]) > 1e-3 * gmax);
  assert(keep.length > grads.length / 4, "most gradients are well above noise");
  assertAllClose(
    keep.map((i) => gpuParams[i]),
    keep.map((i) => refParams[i]),
    { atol: 1e-3 * lr, rtol: 1e-5 },
    "params after Adam",
  );
}

/**
 * Checks presets of one algorithm: a Source and Expected header, `algo.name`, every algo key known
 * to `defaults` with the same type, and no problems from the algorithm's `check`. Returns the
 * merged algo config of each preset (for extra per-algorithm checks).
 */
export async function assertPresetsValidate<C extends object>(
  presets: readonly Preset[],
  options: {
    name: string;
    defaults: Readonly<C>;
    check: (run: RunConfig, algo: C) => string[];
  },
): Promise<C[]> {
  const out: C[] = [];
  for (const p of presets) {
    assert(p.source.length > 0 && p.expected.length > 0, `${p.name} header`);
    const raw = await parseYaml(p.text, p.name) as {
      algo: Record<string, unknown>;
      env: string;
      numEnvs: number;
    };
    assertEquals(raw.algo.name, options.name);
    for (const [k, v] of Object.entries(raw.algo)) {
      if (k === "name") continue;
      const d = (options.defaults as Record<string, unknown>)[k];
      assert(d !== undefined, `${p.name}: unknown key algo.${k}`);
      assertEquals(typeof v, typeof d, `${p.name}: algo.${k}`);
    }
    const algo = { ...options.defaults, ...raw.algo } as unknown as C;
    assertEquals(
      options.check({ seed: 1, numEnvs: raw.numEnvs, totalSteps: 1, env: raw.env }, algo),
      [],
    );
    out.push(algo);
  }
  return out;
}

/**
 * The learning smoke check of SUPER and LBS on Foraging-5x5-2p-1f: 8 intervals of 80 iterations;
 * the mean return of intervals 6–7 must exceed that of intervals 2–3 by 0.05 and their episodes
 * must be shorter.
 *
 * @param tr A freshly built trainer.
 * @returns The metrics of the 8 intervals (for further checks).
 */
export async function assertReturnsRiseEpisodesShorten(tr: Trainer): Promise<Metrics[]> {
  const log: Metrics[] = [];
  for (let k = 0; k < 8; k++) {
    tr.run(80);
    log.push(await tr.readMetrics());
  }
  const line = log.map((m) => `${m.meanReturn.toFixed(3)} (${m.meanLength.toFixed(1)})`).join(", ");
  const mean = (i: number, j: number, f: (m: Metrics) => number) => (f(log[i]) + f(log[j])) / 2;
  const early = mean(2, 3, (m) => m.meanReturn), late = mean(6, 7, (m) => m.meanReturn);
  assert(late >= early + 0.05, `returns did not rise: ${line}`);
  assert(
    mean(6, 7, (m) => m.meanLength) < mean(2, 3, (m) => m.meanLength),
    `episodes did not shorten: ${line}`,
  );
  return log;
}
