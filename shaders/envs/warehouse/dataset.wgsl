// Warehouse AIP dataset recorder (§3 of docs/algorithms/dials.md). Owner:
// envs/warehouse/dataset.ts. Reads the GS's per-step outputs `dset` and `influence`.
// begin:  one thread per env: start[e] = the env's GS step counter. writes start
// record: one thread per (agent a, env e), after a GS step: slot = counter − 1 − start[e]; when
//         slot < stepsPerEnv, row = e · stepsPerEnv + slot, inputs[a, row] = the 37 0/1 values
//         dset[a, e, ·] bit-packed into WORDS = 2 u32 (value q at bit q % 32 of word q / 32, the
//         layout of envs/bits.ts; the thread writes the whole row) and targets[a, row, s] =
//         influence[a, e, s]. writes inputs, targets

struct Params {
  numEnvs: u32,
  numAgents: u32,
  stride: u32,
  stepsPerEnv: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> gsState: array<u32>;
@group(0) @binding(2) var<storage, read_write> start: array<u32>;
@group(0) @binding(3) var<storage, read> startIn: array<u32>;
@group(0) @binding(4) var<storage, read> dset: array<f32>;
@group(0) @binding(5) var<storage, read> influence: array<u32>;
@group(0) @binding(6) var<storage, read_write> inputs: array<u32>;
@group(0) @binding(7) var<storage, read_write> targets: array<u32>;

const OBS: u32 = 37u;
const SOURCES: u32 = 4u;
const WORDS: u32 = (OBS + 31u) / 32u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn begin(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = flatIndex(gid, nwg);
  if (e >= params.numEnvs) {
    return;
  }
  start[e] = gsState[e * params.stride + 2u];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn record(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let ae = flatIndex(gid, nwg);
  if (ae >= params.numAgents * params.numEnvs) {
    return;
  }
  let e = ae % params.numEnvs;
  let a = ae / params.numEnvs;
  let slot = gsState[e * params.stride + 2u] - 1u - startIn[e];
  if (slot >= params.stepsPerEnv) {
    return;
  }
  let row = a * params.numEnvs * params.stepsPerEnv + e * params.stepsPerEnv + slot;
  for (var w = 0u; w < WORDS; w++) {
    var word = 0u;
    for (var b = 0u; b < 32u && w * 32u + b < OBS; b++) {
      word |= select(0u, 1u << b, dset[ae * OBS + w * 32u + b] > 0.5);
    }
    inputs[row * WORDS + w] = word;
  }
  for (var s = 0u; s < SOURCES; s++) {
    targets[row * SOURCES + s] = influence[ae * SOURCES + s];
  }
}
