#!/bin/bash
# `make bench-batch` (docs/batch.md, "Throughput"): lines per hour per core with the embedded model,
# and what sharding costs: the same batch as one process and as N shards run one after the
# other, each on one thread (AUFFUSION_THREADS=1). Each figure is the minimum of ROUNDS rounds,
# alternating, since other work on the machine only ever adds time.
#
# usage: scripts/bench-batch.sh PATH/TO/auffusion [LINES (8)] [STEPS (25)] [SHARDS (4)] [ROUNDS (3)]
set -euo pipefail
binary=$1 lines=${2:-8} steps=${3:-25} shards=${4:-4} rounds=${5:-3}
work=$(mktemp -d /tmp/auffusion-bench-batch.XXXXXX)
trap 'rm -rf "$work"' EXIT
for i in $(seq 1 "$lines"); do printf '{"prompt": "a low pitched beep %d", "seed": %d}\n' "$i" "$i"; done > "$work/batch.jsonl"
export AUFFUSION_THREADS=1
seconds() { local start; start=$(date +%s.%N); "$@" > /dev/null 2>&1; echo "$(date +%s.%N) - $start" | bc; }
run() { "$binary" generate --batch "$work/batch.jsonl" --output-dir "$work/$1" --steps "$steps" --quiet --no-peak-guard "${@:2}"; }
single=999999 sharded=999999
for round in $(seq "$rounds"); do
  rm -rf "$work"/one "$work"/shards
  t=$(seconds run one); single=$(echo "if ($t < $single) $t else $single" | bc)
  t=0
  for k in $(seq 0 $((shards - 1))); do t=$(echo "$t + $(seconds run shards --shard "$k/$shards")" | bc); done
  sharded=$(echo "if ($t < $sharded) $t else $sharded" | bc)
done
for file in $(cd "$work/one" && ls *.wav); do cmp -s "$work/one/$file" "$work/shards/$file" || { echo "bench-batch: $file differs" >&2; exit 1; }; done
printf 'bench-batch: %d lines, %d steps, 1 thread, minimum of %d rounds\n' "$lines" "$steps" "$rounds"
printf '  one process   %7.1f s  %6.0f lines per hour per core\n' "$single" "$(echo "$lines * 3600 / $single" | bc -l)"
printf '  %d shards      %7.1f s  (run one after the other; ratio to one process %.3f, %.1f s per extra process)\n' \
  "$shards" "$sharded" "$(echo "$sharded / $single" | bc -l)" "$(echo "($sharded - $single) / ($shards - 1)" | bc -l)"
