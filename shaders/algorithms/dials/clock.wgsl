// GPU phase clock of DIALS: adds the duration of one phase, from a pair of resolved 64-bit
// timestamps [ns], to its running total [s]. Owner: algorithms/dials/clock.ts.
// accumulate: one thread: stamps = (lo, hi) words of begin then end; acc[phase] += (end − begin)
//             · 1e-9, with the 64-bit difference formed from 32-bit words (borrow on lo).
//                                                                    writes acc
struct Params { phase: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> stamps: array<u32>;
@group(0) @binding(2) var<storage, read_write> acc: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn accumulate(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flatIndex(gid, nwg);
  if (t >= 1u) { return; }
  let lo = stamps[2] - stamps[0];
  let borrow = select(0u, 1u, stamps[2] < stamps[0]);
  let hi = stamps[3] - stamps[1] - borrow;
  let ns = f32(hi) * 4294967296.0 + f32(lo);
  acc[params.phase] = acc[params.phase] + ns * 1e-9;
}
