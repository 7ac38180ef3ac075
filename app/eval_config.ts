/**
 * The `eval:` section of a config: validated against the algorithm family's paper protocol
 * (`evalProtocol` of its definition), field by field; see {@linkcode validateEvalSection}.
 *
 * ```yaml
 * eval: { interval: 50000, episodes: 20, policy: greedy, returns: team, envs: 20, best: true }
 * ```
 *
 * @module
 */
import { EVAL_OFF, type EvalConfig, type EvalProtocol } from "../algorithms/trainer.ts";
import {
  checkIntegerIn,
  isPlainObject,
  type Problem,
  show,
  unknownKeys,
} from "./config_problems.ts";

/** Integer fields of `eval:`: inclusive bounds. */
const EVAL_RANGES: Readonly<Partial<Record<keyof EvalConfig, readonly [number, number]>>> = {
  interval: [0, Number.MAX_SAFE_INTEGER],
  episodes: [1, 2 ** 24 - 1],
  envs: [1, 2 ** 20],
  seed: [0, 2 ** 32 - 1],
};

/** The keys of an `eval:` section, in order. */
export const EVAL_KEYS: readonly (keyof EvalConfig)[] = [
  "interval",
  "intervalFraction",
  "episodes",
  "policy",
  "returns",
  "envs",
  "seed",
  "best",
];

/** Allowed values of the string fields of `eval:`. */
const EVAL_CHOICES: Readonly<Partial<Record<keyof EvalConfig, readonly string[]>>> = {
  policy: ["greedy", "stochastic"],
  returns: ["team", "agent"],
};

/** The settings part of a protocol. */
function evalConfigOf(p: EvalProtocol): EvalConfig {
  return Object.fromEntries(EVAL_KEYS.map((k) => [k, p[k]])) as unknown as EvalConfig;
}

/**
 * Validates `eval:` against the algorithm's protocol: types and ranges of every field, then the
 * merge (a config that sets only `interval` turns `intervalFraction` off and vice versa). A
 * protocol run by the trainer itself (DIALS) takes its settings from the hyper-parameters, so
 * `eval:` may only repeat them.
 *
 * @param raw The parsed `eval` value (undefined: the protocol as it is).
 * @param family The algorithm's protocol and name; null when the algorithm did not validate.
 * @param problems Where problems go (dotted paths `eval.<field>`).
 * @returns The effective settings.
 */
export function validateEvalSection(
  raw: unknown,
  family: { protocol: EvalProtocol; algo: string } | null,
  problems: Problem[],
): EvalConfig {
  const protocol = family?.protocol ?? EVAL_OFF;
  const out = evalConfigOf(protocol);
  if (raw === undefined) return out;
  if (!isPlainObject(raw)) {
    problems.push({
      kind: "type",
      message: `"eval" must be a map with ${EVAL_KEYS.join(", ")}, got ${show(raw)}`,
    });
    return out;
  }
  unknownKeys(raw, EVAL_KEYS, "eval.", problems);
  const set = (k: keyof EvalConfig) => raw[k] !== undefined;
  const given: Partial<Record<keyof EvalConfig, unknown>> = {};
  for (const k of EVAL_KEYS) {
    if (!set(k)) continue;
    const v = raw[k], path = `eval.${k}`, range = EVAL_RANGES[k];
    if (range) {
      if (!checkIntegerIn(path, v, range, problems)) continue;
    } else if (k === "intervalFraction") {
      if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || v > 1) {
        problems.push({
          kind: typeof v === "number" ? "range" : "type",
          message: `"${path}" must be a number between 0 and 1, got ${show(v)}`,
        });
        continue;
      }
    } else if (k === "best") {
      if (typeof v !== "boolean") {
        problems.push({ kind: "type", message: `"${path}" must be true or false, got ${show(v)}` });
        continue;
      }
    } else {
      const choices = EVAL_CHOICES[k]!;
      if (typeof v !== "string" || !choices.includes(v)) {
        problems.push({
          kind: typeof v === "string" ? "range" : "type",
          message: `"${path}" must be one of ${choices.join(", ")}, got ${show(v)}`,
        });
        continue;
      }
    }
    given[k] = v;
  }
  if (family && protocol.runner === "trainer") {
    for (const [k, v] of Object.entries(given)) {
      if (v !== protocol[k as keyof EvalConfig]) {
        problems.push({
          kind: "range",
          message: `"eval.${k}" is ${show(v)}, but "${family.algo}" evaluates by itself (${
            protocol[k as keyof EvalConfig]
          } from ${protocol.source}): set it through the algorithm's hyper-parameters`,
        });
      }
    }
    return out;
  }
  Object.assign(out, given);
  if (given.interval !== undefined && given.intervalFraction === undefined) {
    out.intervalFraction = 0;
  }
  if (given.intervalFraction !== undefined && given.interval === undefined) out.interval = 0;
  if (out.interval > 0 && out.intervalFraction > 0) {
    problems.push({
      kind: "range",
      message:
        `"eval.interval" (${out.interval}) and "eval.intervalFraction" (${out.intervalFraction}) cannot both be > 0: set one, 0 turns the other off`,
    });
  }
  return out;
}
