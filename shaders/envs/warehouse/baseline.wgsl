// Warehouse hand-coded baseline (§8 of docs/envs/warehouse.md) for the
// learning robots of the global simulator. Owner: envs/warehouse/baseline.ts.
// act: one thread per (agent a, env e), t = a · numEnvs + e: reads the GS state, writes
//      actions[t] and (variant B) the remembered slot memory[t], cleared at episode step 0.
// Random actions: rngU32(seed, purpose, env, robotId, counter, 0) (counter = the env's GS step
// counter), used when there is no target or (variant A) the oldest item is under the robot.

struct Params {
  numEnvs: u32,
  robotsPerSide: u32,
  learningPerSide: u32,
  variant: u32,
  seed: u32,
  purpose: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> gsState: array<u32>;
@group(0) @binding(2) var<storage, read_write> memory: array<u32>;
@group(0) @binding(3) var<storage, read_write> actions: array<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn act(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let l = params.learningPerSide;
  if (t >= l * l * params.numEnvs) {
    return;
  }
  let a = t / params.numEnvs;
  let e = t % params.numEnvs;
  let k = params.robotsPerSide;
  let base = e * (3u + 2u * k * k + 6u * k * (k + 1u));
  let i = 1u + a / l;
  let j = 1u + a % l;
  let g = i * k + j;
  var ages: array<u32, 12>;
  let ib = base + 3u + 2u * k * k;
  for (var s = 0u; s < WH_SLOTS; s++) {
    ages[s] = gsState[ib + whRegionScan(k, i, j, s)];
  }
  let cell = gsState[base + 3u + g];
  let random = rngBelow(rngU32(params.seed, params.purpose, e, g, gsState[base + 2u], 0u), 4u);
  if (params.variant == 0u) {
    actions[t] = whOldest(cell, ages, random);
  } else {
    let remembered = select(memory[t], WH_NO_SLOT, gsState[base] == 0u);
    let r = whClosest(cell, ages, remembered, random);
    actions[t] = r.x;
    memory[t] = r.y;
  }
}
