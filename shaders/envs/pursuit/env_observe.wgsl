// Pursuit observations (spec docs/envs/pursuit.md §8). Owner: envs/pursuit/env.ts.
// observe: one thread per u32 word of obs (or per env, if there are more envs than words), obs
//          is u8 [numPursuers, numEnvs, R, R, 3] packed 4 per word (little-endian), R = obsRange:
//          element (Y·R + X)·3 + c of pursuer p at cell (x_p + X − R/2, y_p + Y − R/2); c0 = 1
//          for an obstacle or off the map, c1 = pursuers, c2 = evaders on the cell. Reads the
//          scenes and `ends` (per env: terminated | truncated << 1, episode step) written by
//          pursuit_step.wgsl.
//          writes obs (every word), terminalObs (bytes of envs with terminated or truncated set,
//          from terminalScene; other bytes keep their value) and, thread e < numEnvs, env e's
//          terminated, truncated and episodeStep from `ends` (envs/common/_episode.wgsl).

struct Params {
  numEnvs: u32,
  xSize: u32,
  ySize: u32,
  numPursuers: u32,
  obsRange: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> scene: array<u32>;
@group(0) @binding(2) var<storage, read> terminalScene: array<u32>;
@group(0) @binding(3) var<storage, read> ends: array<u32>;
@group(0) @binding(4) var<storage, read_write> obs: array<u32>;
@group(0) @binding(5) var<storage, read_write> terminalObs: array<u32>;
@group(0) @binding(6) var<storage, read_write> terminated: array<u32>;
@group(0) @binding(7) var<storage, read_write> truncated: array<u32>;
@group(0) @binding(8) var<storage, read_write> episodeStep: array<u32>;

// Word i of the live or the terminal scenes.
fn sceneWord(terminal: bool, i: u32) -> u32 {
  if (terminal) {
    return terminalScene[i];
  }
  return scene[i];
}

// Byte k of pursuer p's observation in env e.
fn obsByte(terminal: bool, p: u32, e: u32, k: u32) -> u32 {
  let cells = params.xSize * params.ySize;
  let base = e * (cells + params.numPursuers);
  let pos = sceneWord(terminal, base + cells + p);
  let half = i32(params.obsRange / 2u);
  let c = k % 3u;
  let X = i32((k / 3u) % params.obsRange);
  let Y = i32(k / (3u * params.obsRange));
  let x = i32(pos & 0xffffu) + X - half;
  let y = i32(pos >> 16u) + Y - half;
  if (x < 0 || y < 0 || x >= i32(params.xSize) || y >= i32(params.ySize)) {
    return select(0u, 1u, c == 0u);
  }
  let w = sceneWord(terminal, base + u32(x) * params.ySize + u32(y));
  return select(select((w >> 8u) & 255u, w & 255u, c == 1u), (w >> 16u) & 1u, c == 0u);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn observe(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  let size = params.obsRange * params.obsRange * 3u;
  let total = params.numPursuers * params.numEnvs * size;
  let words = (total + 3u) / 4u;
  if (t >= max(words, params.numEnvs)) {
    return;
  }
  if (t < params.numEnvs) {
    // The step wrote the frame count after any reset (0 where the episode ended).
    let flags = ends[2u * t];
    episodeAdvance(t, ends[2u * t + 1u], (flags & 1u) != 0u, (flags >> 1u) != 0u);
  }
  if (t >= words) {
    return;
  }
  var live = 0u;
  var term = 0u;
  var ended = false;
  for (var b = 0u; b < 4u; b++) {
    let j = 4u * t + b;
    if (j >= total) {
      break;
    }
    let row = j / size;
    let k = j % size;
    let p = row / params.numEnvs;
    let e = row % params.numEnvs;
    live |= obsByte(false, p, e, k) << (8u * b);
    if (ends[2u * e] != 0u) {
      if (!ended) {
        term = terminalObs[t];
        ended = true;
      }
      let mask = 255u << (8u * b);
      term = (term & ~mask) | (obsByte(true, p, e, k) << (8u * b));
    }
  }
  obs[t] = live;
  if (ended) {
    terminalObs[t] = term;
  }
}
