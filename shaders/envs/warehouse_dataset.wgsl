// Warehouse AIP dataset recorder (§3 of shared/specs/algorithms/dials.md). Owner:
// envs/warehouse_dataset.ts. Reads the GS's per-step outputs `dset` and `influence`.
// begin:  one thread per env: start[e] = the env's GS step counter. writes start
// record: one thread per (agent a, env e, value q < 41), after a GS step: slot = counter − 1 −
//         start[e]; when slot < stepsPerEnv, row = e · stepsPerEnv + slot and
//         inputs[a, row, q] = dset[a, e, q] (q < 37), targets[a, row, q − 37] =
//         influence[a, e, q − 37]. writes inputs, targets

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
@group(0) @binding(6) var<storage, read_write> inputs: array<f32>;
@group(0) @binding(7) var<storage, read_write> targets: array<u32>;

const OBS: u32 = 37u;
const SOURCES: u32 = 4u;

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
  let t = flatIndex(gid, nwg);
  let width = OBS + SOURCES;
  if (t >= params.numAgents * params.numEnvs * width) {
    return;
  }
  let q = t % width;
  let ae = t / width;
  let e = ae % params.numEnvs;
  let a = ae / params.numEnvs;
  let slot = gsState[e * params.stride + 2u] - 1u - startIn[e];
  if (slot >= params.stepsPerEnv) {
    return;
  }
  let row = a * params.numEnvs * params.stepsPerEnv + e * params.stepsPerEnv + slot;
  if (q < OBS) {
    inputs[row * OBS + q] = dset[ae * OBS + q];
  } else {
    targets[row * SOURCES + q - OBS] = influence[ae * SOURCES + q - OBS];
  }
}
