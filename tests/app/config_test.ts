import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
} from "node:assert/strict";
import {
  applyOverrides,
  configToYaml,
  overrideConfig,
  parseConfig,
  parseOverrideValue,
  parseScalar,
  RUN_DEFAULTS,
  validateConfig,
} from "../../app/config.ts";
import { findPreset, listPresets, presetComment, presetHeader } from "../../app/presets.ts";
import { formatDuration, progressText } from "../../app/progress.ts";

/** Runs `fn`, asserts it throws an instance of `cls`, returns the error. */
function assertThrows<E extends Error>(fn: () => unknown, cls: new (...a: never[]) => E): E {
  try {
    fn();
  } catch (e) {
    assert(
      e instanceof cls,
      `threw ${(e as Error)?.name}: ${(e as Error)?.message}, want ${cls.name}`,
    );
    return e;
  }
  throw new Error(`did not throw, want ${cls.name}`);
}

/** Awaits `fn`, asserts it rejects with `cls` (and `includes` in the message), returns the error. */
async function assertRejects<E extends Error>(
  fn: () => Promise<unknown>,
  cls: new (...a: never[]) => E,
  includes = "",
): Promise<E> {
  try {
    await fn();
  } catch (e) {
    assert(
      e instanceof cls,
      `threw ${(e as Error)?.name}: ${(e as Error)?.message}, want ${cls.name}`,
    );
    assert(e.message.includes(includes), `message "${e.message}" lacks "${includes}"`);
    return e;
  }
  throw new Error(`did not reject, want ${cls.name}`);
}

const BASE = {
  seed: 3,
  numEnvs: 8,
  totalSteps: 800,
  env: "Foraging-8x8-2p-2f-coop",
  algo: { name: "random" },
  log: { interval: 80, checkpointEvery: 0 },
};

Deno.test("validateConfig() fills defaults and freezes the config deeply", () => {
  const cfg = validateConfig({ algo: { name: "random" } });
  assertEquals(cfg.numEnvs, RUN_DEFAULTS.numEnvs);
  assertEquals(cfg.log, { ...RUN_DEFAULTS.log });
  assertEquals(cfg.algo, { name: "random" });
  assert(Object.isFrozen(cfg) && Object.isFrozen(cfg.log) && Object.isFrozen(cfg.algo));
});

Deno.test("validateConfig() names unknown keys with their dotted path and the allowed keys", () => {
  const e = assertThrows(
    () => validateConfig({ ...BASE, algo: { name: "random", lr: 1e-3 } }, "x.yaml"),
    TypeError,
  );
  assertMatch(e.message, /^Cannot read config "x.yaml": unknown key "algo.lr" \(allowed: name\)$/);
  const e2 = assertThrows(() => validateConfig({ ...BASE, log: { every: 3 } }), TypeError);
  assertMatch(e2.message, /unknown key "log.every" \(allowed: interval, checkpointEvery\)/);
  const e3 = assertThrows(() => validateConfig({ ...BASE, numEnv: 3 }), TypeError);
  assertMatch(e3.message, /unknown key "numEnv" \(allowed: seed, numEnvs, totalSteps/);
});

Deno.test("validateConfig() rejects wrong types and out-of-range values naming the bounds", () => {
  assertMatch(
    assertThrows(() => validateConfig({ ...BASE, numEnvs: "many" }), TypeError).message,
    /"numEnvs" must be an integer, got "many"/,
  );
  assertMatch(
    assertThrows(() => validateConfig({ ...BASE, numEnvs: 0 }), RangeError).message,
    /"numEnvs" must be an integer between 1 and 1048576, got 0/,
  );
  assertMatch(
    assertThrows(() => validateConfig({ ...BASE, log: { interval: 2.5 } }), RangeError).message,
    /"log.interval" must be an integer >= 1, got 2.5/,
  );
  assertMatch(
    assertThrows(() => validateConfig({ ...BASE, seed: -1 }), RangeError).message,
    /"seed" must be an integer between 0 and 4294967295, got -1/,
  );
  assertMatch(
    assertThrows(() => validateConfig({ ...BASE, name: "a b" }), RangeError).message,
    /"name" must be letters, digits/,
  );
});

Deno.test("validateConfig() lists the known algorithms and tasks when a name is unknown", () => {
  assertMatch(
    assertThrows(() => validateConfig({ ...BASE, algo: { name: "ppo" } }), RangeError).message,
    /"algo.name" must be one of random[^;]*, got "ppo"/,
  );
  assertMatch(
    assertThrows(() => validateConfig({ ...BASE, algo: undefined }), TypeError).message,
    /missing "algo"/,
  );
  assertMatch(
    assertThrows(() => validateConfig({ ...BASE, env: "Foraging-huge" }), RangeError).message,
    /"env": Cannot find environment "Foraging-huge".*e\.g\. Foraging-8x8-2p-2f-coop/,
  );
});

Deno.test("validateConfig() reports every problem in one line", () => {
  const e = assertThrows(() => validateConfig({ ...BASE, numEnvs: 0, bogus: 1 }), TypeError);
  assertMatch(e.message, /unknown key "bogus".*; "numEnvs" must be/);
  assert(!e.message.includes("\n"));
});

Deno.test("parseConfig() turns bad YAML into a SyntaxError naming the source", async () => {
  const e = await assertRejects(
    () => parseConfig("seed: [1, 2\nnumEnvs: 3", { source: "bad.yaml" }),
    SyntaxError,
  );
  assertMatch(e.message, /^Cannot read config "bad.yaml": invalid YAML: /);
  assert(!e.message.includes("\n"));
});

Deno.test("overrides use the config's dotted paths and YAML scalar parsing", async () => {
  assertEquals(parseScalar("1e-3"), 0.001);
  assertEquals(parseScalar("128"), 128);
  assertEquals(parseScalar("true"), true);
  assertEquals(parseScalar("'7'"), "7");
  assertEquals(parseScalar("Foraging-10x10-3p-3f"), "Foraging-10x10-3p-3f");
  assertEquals(parseOverrideValue("[64, 64]"), [64, 64]);
  assertEquals(parseOverrideValue("[]"), []);
  assertEquals(parseOverrideValue("[a, 'b', true]"), ["a", "b", true]);
  assertEquals(parseOverrideValue("0.5"), 0.5);
  const idqn = validateConfig(applyOverrides(
    { env: "Foraging-5x5-2p-1f", algo: { name: "idqn" } },
    [["algo.conv", "[]"], ["algo.dense", "[64,64]"]],
  ));
  assertEquals([(idqn.algo as { conv: number[] }).conv, (idqn.algo as { dense: number[] }).dense], [
    [],
    [64, 64],
  ]);
  const raw = applyOverrides(BASE, [["numEnvs", "16"], ["log.checkpointEvery", "160"]]);
  assertEquals(BASE.numEnvs, 8, "the input is not mutated");
  const cfg = validateConfig(raw);
  assertEquals([cfg.numEnvs, cfg.log.checkpointEvery], [16, 160]);
  const text = configToYaml(BASE);
  const over = await parseConfig(text, { overrides: [["env", "Foraging-10x10-3p-3f"]] });
  assertEquals(over.env, "Foraging-10x10-3p-3f");
  await assertRejects(
    () => parseConfig(text, { overrides: [["algo.lr", "1e-3"]] }),
    TypeError,
    'unknown key "algo.lr"',
  );
});

Deno.test("configToYaml() output parses back to the same config", async () => {
  const cfg = validateConfig({ ...BASE, name: "run-1.a", env: "Foraging-2s-8x8-3p-2f" });
  const text = configToYaml(cfg);
  assertMatch(text, /^seed: 3\nnumEnvs: 8\n/);
  assertEquals(await parseConfig(text), cfg);
  assertEquals(
    configToYaml({ a: "true", b: "x y", c: [1, 2] }),
    'a: "true"\nb: "x y"\nc: [1, 2]\n',
  );
});

const SEAC_LBF = {
  name: "Foraging-10x10-3p-3f",
  maxEpisodeSteps: 25,
  timeLimit: "truncate",
  foodLevels: "v0",
};

Deno.test("validateConfig() takes env as a map of the task name and its family's options", () => {
  const cfg = validateConfig({
    ...BASE,
    env: { name: "Foraging-10x10-3p-3f", timeLimit: "truncate" },
  });
  assertEquals(cfg.env, {
    name: "Foraging-10x10-3p-3f",
    maxEpisodeSteps: 50,
    timeLimit: "truncate",
    foodLevels: "v3",
  });
  assert(Object.isFrozen(cfg.env));
  assertEquals(validateConfig({ ...BASE, env: SEAC_LBF }).env, SEAC_LBF);
  assertEquals(validateConfig({ ...BASE, env: { name: "pursuit" } }).env, { name: "pursuit" });
  assertEquals(validateConfig(BASE).env, BASE.env, "a task name stays a string");
});

Deno.test("validateConfig() names the dotted path of bad env options", () => {
  const bad = (env: unknown, cls: new (...a: never[]) => Error) =>
    assertThrows(() => validateConfig({ ...BASE, env }, "x.yaml"), cls).message;
  assertMatch(
    bad({ ...SEAC_LBF, timeLimit: "cut" }, RangeError),
    /^Cannot read config "x.yaml": "env.timeLimit" must be "truncate" or "terminate", got "cut"$/,
  );
  assertMatch(
    bad({ ...SEAC_LBF, maxEpisodeSteps: 0 }, RangeError),
    /"env.maxEpisodeSteps" must be an integer between 1 and 4294967295, got 0/,
  );
  assertMatch(
    bad({ ...SEAC_LBF, maxEpisodeSteps: "25" }, TypeError),
    /"env.maxEpisodeSteps" must be an integer, got "25"/,
  );
  assertMatch(
    bad({ ...SEAC_LBF, foodLevels: "v1" }, RangeError),
    /"env.foodLevels" must be "v0" or "v3", got "v1"/,
  );
  assertMatch(
    bad({ ...SEAC_LBF, maxSteps: 25 }, TypeError),
    /unknown key "env.maxSteps" \(allowed: name, maxEpisodeSteps, timeLimit, foodLevels\)/,
  );
  assertMatch(
    bad({ name: "pursuit", maxEpisodeSteps: 25 }, TypeError),
    /unknown key "env.maxEpisodeSteps" \(allowed: name\)/,
  );
  assertMatch(bad({ timeLimit: "truncate" }, TypeError), /missing "env.name"/);
  assertMatch(bad({ name: 3 }, TypeError), /"env.name" must be a task name, got 3/);
  assertMatch(
    bad({ name: "Foraging-huge", timeLimit: "truncate" }, RangeError),
    /"env.name": Cannot find environment "Foraging-huge"/,
  );
  assertMatch(bad(25, TypeError), /"env" must be a task name or a map with "name"/);
  const two = bad({ ...SEAC_LBF, timeLimit: "cut", foodLevels: "v1" }, RangeError);
  assertMatch(two, /"env.timeLimit" must be .*; "env.foodLevels" must be /);
});

Deno.test("env options round-trip through config.yaml and take CLI overrides", async () => {
  const cfg = validateConfig({ ...BASE, name: "lbf-1", env: SEAC_LBF });
  const text = configToYaml(cfg);
  assertMatch(
    text,
    /\nenv:\n {2}name: Foraging-10x10-3p-3f\n {2}maxEpisodeSteps: 25\n {2}timeLimit: truncate\n/,
  );
  assertEquals(await parseConfig(text), cfg);
  // An option override turns a task name into a map; the rest take their defaults.
  const plain = configToYaml(validateConfig(BASE));
  const over = await parseConfig(plain, {
    overrides: [["env.maxEpisodeSteps", "25"], ["env.timeLimit", "truncate"]],
  });
  assertEquals(over.env, {
    name: BASE.env,
    maxEpisodeSteps: 25,
    timeLimit: "truncate",
    foodLevels: "v3",
  });
  const back = await parseConfig(text, { overrides: [["env.foodLevels", "v3"]] });
  assertEquals(back.env, { ...SEAC_LBF, foodLevels: "v3" });
  await assertRejects(
    () => parseConfig(plain, { overrides: [["env.timeLimit", "never"]] }),
    RangeError,
    '"env.timeLimit" must be "truncate" or "terminate", got "never"',
  );
  // A task name override replaces the whole map.
  const renamed = await parseConfig(text, { overrides: [["env", "Foraging-8x8-2p-2f-coop"]] });
  assertEquals(renamed.env, "Foraging-8x8-2p-2f-coop");
});

Deno.test("presetHeader() reads the description, source and expected result", () => {
  const h = presetHeader(
    "# Line one.\n# Source: Paper A (2020),\n#   table 2.\n# Expected: return 1.0\nseed: 1\n# later\n",
  );
  assertEquals(h, {
    description: "Line one.",
    source: "Paper A (2020), table 2.",
    expected: "return 1.0",
  });
});

Deno.test("every preset states its source and expected result and validates", async () => {
  const presets = await listPresets();
  assert(presets.some((p) => p.name === "random_lbf"));
  for (const p of presets) {
    assert(p.source.length > 0, `${p.name} has no "# Source:" line`);
    assert(p.expected.length > 0, `${p.name} has no "# Expected:" line`);
    await parseConfig(p.text, { source: p.name, warn: () => {} });
  }
});

Deno.test("progressText() shows steps, rate, return and ETA", () => {
  const t = progressText(
    { envSteps: 5000, stepsPerSecond: 1000, meanReturn: 0.25, episodes: 7 },
    65000,
  );
  assertEquals(t, "5,000/65,000 steps (8%)  1,000 steps/s  return 0.250 (7 eps)  ETA 1m00s");
  assertMatch(
    progressText({ envSteps: 1, stepsPerSecond: 0, meanReturn: NaN, episodes: 0 }, 2),
    /return – \(0 eps\) {2}ETA \?$/,
  );
  assertEquals([formatDuration(5), formatDuration(3725)], ["5s", "1h02m"]);
});

Deno.test("a log interval above totalSteps after overrides is clamped with a note naming it", async () => {
  const { config, notes } = overrideConfig(BASE, [["totalSteps", "50"]]);
  assertEquals(config.log, { interval: 50, checkpointEvery: 0 }, "checkpointEvery 0 stays");
  assertEquals(notes, ["log.interval 80 is above totalSteps 50: using 50"]);
  assertEquals(BASE.log.interval, 80, "the input is not mutated");
  // Defaults count too, and are named as such.
  const bare = overrideConfig({ totalSteps: 400, algo: { name: "random" } }, []);
  assertEquals(bare.notes, [
    "log.interval 10000 (default) is above totalSteps 400: using 400",
    "log.checkpointEvery 50000 (default) is above totalSteps 400: using 400",
  ]);
  const warned: string[] = [];
  const cfg = await parseConfig(configToYaml(BASE), {
    overrides: [["totalSteps", "60"], ["log.checkpointEvery", "100"]],
    warn: (m) => warned.push(m),
  });
  assertEquals([cfg.log.interval, cfg.log.checkpointEvery], [60, 60]);
  assertEquals(warned, [
    "log.interval 80 is above totalSteps 60: using 60",
    "log.checkpointEvery 100 is above totalSteps 60: using 60",
  ]);
  // Nothing to say when the intervals fit; a bad type is left for validation to report.
  assertEquals(overrideConfig(BASE, []).notes, []);
  assertEquals(overrideConfig(BASE, [["log.interval", "often"]]).notes, []);
});

Deno.test("--algo.name on a preset drops the preset's keys the new algorithm lacks", async () => {
  const preset = await findPreset("seac_rware_tiny_4ag");
  const warned: string[] = [];
  const cfg = await parseConfig(preset.text, {
    overrides: [["algo.name", "idqn"], ["totalSteps", "5000000"]],
    warn: (m) => warned.push(m),
  });
  assertEquals(cfg.algo.name, "idqn");
  if (cfg.algo.name === "idqn") assertEquals(cfg.algo.lr, 0.0003, "a key both have is kept");
  assertEquals(warned, [
    "--algo.name=idqn: dropped algo.foreignTarget, algo.nSteps, algo.entropyCoef, algo.valueCoef, " +
    "algo.hidden from the config (idqn has no such settings); kept the config's algo.lambda, " +
    "algo.gamma, algo.lr, algo.adamEps, algo.maxGradNorm",
  ]);
  // Keys typed on the command line are still checked strictly.
  await assertRejects(
    () =>
      parseConfig(preset.text, {
        overrides: [["algo.name", "idqn"], ["algo.nSteps", "3"]],
        warn: () => {},
      }),
    TypeError,
    'unknown key "algo.nSteps"',
  );
  // Without an --algo.name override, nothing is dropped: validation rejects the key as before.
  const { config, notes } = overrideConfig({ algo: { name: "random", lr: 1 } }, []);
  assertEquals([config.algo, notes], [{ name: "random", lr: 1 }, []]);
  // The same name, or an unknown one, drops nothing (validation names the unknown algorithm).
  assertEquals(
    overrideConfig({ algo: { name: "seac", nSteps: 5 } }, [["algo.name", "seac"]]).notes,
    [],
  );
  assertEquals(
    overrideConfig({ algo: { name: "seac", nSteps: 5 } }, [["algo.name", "nope"]]).config.algo,
    {
      name: "nope",
      nSteps: 5,
    },
  );
});

Deno.test("presetComment() returns the whole leading comment block", () => {
  assertEquals(
    presetComment("# Line one.\n# Source: A\n#   more\n#\n# Note.\nseed: 1\n# later\n"),
    "Line one.\nSource: A\n  more\n\nNote.",
  );
  assertEquals(presetComment("seed: 1\n"), "");
});
