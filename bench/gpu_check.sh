#!/usr/bin/env bash
# The prepared device check: everything that still needs a real GPU, in one command that fits the
# `device` tool's 10-minute call (a task lent a GPU gets 15 minutes in all, start included).
#   .gpu/ (ignored) holds a Deno 2.9.6 binary and setup.sh, which puts it on PATH; then
#   device run, carry [".gpu"], timeout_s 600:
#     source .gpu/setup.sh && bash bench/gpu_check.sh    # phases below, about 9 minutes
#     source .gpu/setup.sh && GPU_CHECK_PHASES=seeds,presets bash bench/gpu_check.sh   # a second call
# Each phase runs under its own time limit and writes $OUT/<phase>.log (./gpu-check/ without $OUT);
# $OUT/summary.txt collects the adapter line, the test tally and every "best …" bench line.
#   adapter  the adapter WebGPU picked and its limits (stops the check if it is a CPU adapter)
#   tests    deno task test: the tiled dense kernels and the GPU-only paths on hardware
#   kernels  dense GFLOP/s per variant (bench/kernels_bench.ts) and the batched 8-agent update vs
#            the same agents one after another (bench/train_bench.ts; target ≥ 3×)
#   seac     SEAC/IAC/SNAC env-steps/s at 4, 1024, 16384 and 65536 envs (target ≥ 1,000,000)
#   envs     env steps/s of LBF, RWARE, Pursuit and warehouse at up to 16k–65k envs
#   seeds    1, 4, 16, 64 seeds batched vs one after another: SEAC rware-tiny-4ag at 4 envs per
#            seed, IDQN at 8 envs per seed on LBF (MLP) and Pursuit (CNN) (bench/seeds_bench.ts;
#            target ≥ 10× the one-seed throughput at 16 seeds); not in the default phases
#   presets  the LBS Pursuit and the 100-agent warehouse DIALS presets for 120 s each, to
#            extrapolate their full-run times (targets < 10 min); not in the default phases
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu-check}
mkdir -p "$out"
phases=${GPU_CHECK_PHASES:-adapter,tests,kernels,seac,envs}
summary="$out/summary.txt"
: >"$summary"
flags=(--allow-read --allow-write --allow-env --allow-net --allow-run)

# phase NAME SECONDS COMMAND…: runs COMMAND with a time limit, logging to $out/NAME.log.
phase() {
  local name=$1 limit=$2
  shift 2
  [[ ",$phases," == *",$name,"* ]] || return 0
  echo "== $name (limit ${limit}s): $*" | tee -a "$summary"
  local t0=$SECONDS
  timeout --signal=INT --kill-after=10 "$limit" "$@" >"$out/$name.log" 2>&1
  local rc=$?
  sed -e 's/\x1b\[[0-9;]*m//g' "$out/$name.log" |
    grep -E '^(best |adapter|ok \||FAILED \||dispatches per|tests: |seeds )|steps/s' | tail -n 60 >>"$summary"
  echo "== $name: exit $rc after $((SECONDS - t0))s" | tee -a "$summary"
  return 0
}

adapter_probe='
import { createEngine } from "./engine/device.ts";
const e = await createEngine();
const a = e.adapter;
console.log(`adapter: ${a.vendor} ${a.architecture} ${a.description} (isCpu ${e.isCpu})`);
console.log(JSON.stringify(a.limits));
e.destroy();
if (e.isCpu) Deno.exit(3);'
if [[ ",$phases," == *",adapter,"* ]]; then
  echo "== adapter" | tee -a "$summary"
  if ! deno eval "$adapter_probe" 2>&1 | tee "$out/adapter.log" | tee -a "$summary"; then
    echo "no GPU adapter: stopping (see $out/adapter.log)" | tee -a "$summary"
    exit 1
  fi
fi

phase tests 280 deno test "${flags[@]}" --doc tests/ mod.ts
phase kernels 80 deno bench "${flags[@]}" bench/kernels_bench.ts bench/train_bench.ts
phase seac 100 env SEAC_BENCH_ENVS=4,1024,16384,65536 SEAC_BENCH_TASKS=rware-tiny-4ag \
  deno bench "${flags[@]}" bench/seac_bench.ts
phase seeds 120 env SEEDS_BENCH_CASES=all deno bench "${flags[@]}" bench/seeds_bench.ts
phase envs 90 deno bench "${flags[@]}" bench/lbf_bench.ts bench/rware_bench.ts \
  bench/pursuit_bench.ts bench/warehouse_bench.ts
# Each preset trains for 120 s with a metrics line every 10k env steps (runs go to /tmp: their
# checkpoints are large); the log keeps the progress lines (env steps, steps/s) to extrapolate from.
phase presets 260 bash -c 'for p in lbs_pursuit dials_warehouse_100; do
  timeout -s KILL 120 deno run '"${flags[*]}"' app/run.ts "$p" --plain \
    --root /tmp/gpu-check-runs --log.interval=10000 --log.checkpointEvery=0; done'
echo "summary: $summary"
