/**
 * `deno run -A app/extract_policy.ts <checkpoint | run dir> <out.safetensors>`: writes a policy
 * file from a checkpoint: the same format and metadata with only the tensors the policy needs to
 * act (`trainer.policyTensors()`, found by building the run's trainer with one env), so a policy
 * trained with `deno task run` can ship with the playground at a few kilobytes.
 *
 * @module
 */
import { createEngine, type Engine } from "../engine/device.ts";
import { findAlgorithm } from "../algorithms/mod.ts";
import { decodeCheckpoint, namedCheckpointTensors } from "./checkpoint_bytes.ts";
import { validateConfig } from "./config.ts";
import { encodeSafetensors, type StoredTensor } from "./safetensors.ts";

/**
 * The policy file of checkpoint bytes: the policy's tensors and the same metadata.
 *
 * @param bytes A checkpoint file.
 * @param options `source` for errors, and an `engine` to build the trainer on (default a fresh
 *   one, destroyed at the end).
 * @returns The policy file and the names it holds.
 */
export async function extractPolicy(
  bytes: Uint8Array,
  options: { source?: string; engine?: Engine } = {},
): Promise<{ bytes: Uint8Array; names: string[] }> {
  const source = options.source ?? "checkpoint";
  const checkpoint = decodeCheckpoint(bytes, source);
  const config = validateConfig(
    { ...(checkpoint.config as Record<string, unknown>), numEnvs: 1 },
    `${source} (metadata)`,
  );
  const engine = options.engine ?? await createEngine();
  try {
    const def = findAlgorithm(config.algo.name)!;
    const { name: _n, ...algo } = config.algo;
    const trainer = await def.create(engine, config, algo);
    const names = Object.keys(namedCheckpointTensors(trainer, { policyOnly: true }));
    const tensors: Record<string, StoredTensor> = {};
    for (const n of names) {
      const t = checkpoint.tensors[n];
      if (!t) throw new TypeError(`Cannot extract policy from "${source}": "${n}" is missing`);
      tensors[n] = t;
    }
    return { bytes: encodeSafetensors({ tensors, metadata: checkpoint.metadata }), names };
  } finally {
    if (!options.engine) engine.destroy();
  }
}

async function extractMain(argv: readonly string[]): Promise<number> {
  if (argv.length !== 2 || argv[0].startsWith("-")) {
    console.error(
      "Usage: deno run -A app/extract_policy.ts <checkpoint | run dir> <out.safetensors>",
    );
    return argv.includes("--help") ? 0 : 1;
  }
  try {
    let [path, out] = argv;
    if ((await Deno.stat(path)).isDirectory) {
      path = `${path.replace(/\/+$/, "")}/checkpoint.safetensors`;
    }
    const r = await extractPolicy(await Deno.readFile(path), { source: path });
    await Deno.writeFile(out, r.bytes);
    console.log(`policy: ${r.names.join(", ")} (${r.bytes.length} bytes) → ${out}`);
    return 0;
  } catch (e) {
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await extractMain(Deno.args));
