#!/bin/bash
# `make test-slurm` (docs/batch.md, "Tested on a real scheduler"): start a one-node Slurm
# cluster on this machine (munged, slurmctld and slurmd as root, from a generated slurm.conf in a
# temporary folder), submit docs/batch/slurm-array.sh for a small batch with the embedded model,
# wait, and check that the shards' manifests cover every line exactly once and that the outputs
# are the bytes of a single-process run. Everything it starts is stopped on exit.
#
# usage: scripts/slurm/test-slurm.sh PATH/TO/auffusion [ARRAY_TASKS (default 3)]
set -euo pipefail
binary=$(readlink -f "$1")
tasks=${2:-3}
repository=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/auffusion-slurm.XXXXXX)
host=$(hostname -s)
pids=()

stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  if [ "${keep:-0}" = 0 ]; then rm -rf "$work"; else echo "test-slurm: kept $work"; fi
}
trap stop EXIT
fail() { echo "test-slurm: FAILED: $*" >&2; keep=1; exit 1; }

[ "$(id -u)" = 0 ] || fail "the daemons run as root here (SlurmUser=root); run as root"
mkdir -p "$work"/{munge,state,spool,logs,out,reference}

# munge: a key of our own and a socket in the temporary folder, so a system munged is untouched.
mungekey --create --keyfile="$work/munge/munge.key" --force
chmod 600 "$work/munge/munge.key"
munged --key-file="$work/munge/munge.key" --socket="$work/munge/socket" --pid-file="$work/munge/pid" \
  --log-file="$work/logs/munged.log" --seed-file="$work/munge/seed" --force
for _ in $(seq 50); do [ -s "$work/munge/pid" ] && break; sleep 0.1; done
pids+=("$(cat "$work/munge/pid")")

# Ports: the defaults unless taken.
port=6817
while ss -ltn 2>/dev/null | grep -q ":$port "; do port=$((port + 2)); done
cpus=$(nproc)
memory=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2))
cat > "$work/slurm.conf" <<CONF
ClusterName=auffusion-test
SlurmctldHost=$host
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge/socket
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/logs/slurmctld.log
SlurmdLogFile=$work/logs/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$host CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$work/slurm.conf

slurmctld -D -i -f "$SLURM_CONF" > "$work/logs/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" > "$work/logs/slurmd.out" 2>&1 &
pids+=($!)
ready=0
for _ in $(seq 100); do
  if sinfo -h -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then ready=1; break; fi
  sleep 0.2
done
if [ $ready = 0 ]; then
  tail -5 "$work"/logs/*.log "$work"/logs/*.out >&2 || true
  fail "Slurm did not start (logs above; sinfo: $(sinfo 2>&1 | tr '\n' ' '))"
fi
echo "test-slurm: one-node cluster up on $host ($cpus CPUs, ports $port-$((port + 1)))"

# The batch: lines with and without seeds of their own; --seed makes the others reproducible.
for i in $(seq 0 6); do
  if [ $((i % 2)) = 0 ]; then
    printf '{"prompt": "a low pitched beep number %d", "seed": %d}\n' "$i" "$((i + 10))"
  else
    printf '{"prompt": "white noise and a high beep %d", "output": "odd/%d.flac"}\n' "$i" "$i"
  fi
done > "$work/batch.jsonl"
options=(--steps 3 --seed 5)

started=$(date +%s.%N)
AUFFUSION_THREADS=1 "$binary" generate --batch "$work/batch.jsonl" --output-dir "$work/reference" --quiet "${options[@]}" \
  2> "$work/logs/reference.log" || fail "the single-process run failed: $(tail -1 "$work/logs/reference.log")"
single=$(echo "$(date +%s.%N) - $started" | bc)

started=$(date +%s.%N)
AUFFUSION="$binary" timeout 600 sbatch --wait --time=10 --array=0-$((tasks - 1)) --cpus-per-task=1 --output="$work/logs/task-%a.log" \
  "$repository/docs/batch/slurm-array.sh" "$work/batch.jsonl" "$work/out" "${options[@]}" \
  || { tail -20 "$work"/logs/task-*.log >&2 || true; fail "the array job failed"; }
array=$(echo "$(date +%s.%N) - $started" | bc)

# Every line exactly once, done, across the shards' manifests; the same bytes as one process.
lines=$(wc -l < "$work/batch.jsonl")
[ "$(ls "$work"/out/manifest-*-of-"$tasks".jsonl | wc -l)" = "$tasks" ] || fail "expected $tasks manifests"
covered=$(cat "$work"/out/manifest-*-of-"$tasks".jsonl \
  | python3 -c 'import json, sys; print(" ".join(str(e["line"]) for e in map(json.loads, sys.stdin) if e["status"] == "done"))' \
  | tr ' ' '\n' | sort -n | tr '\n' ' ')
expected=$(seq 0 $((lines - 1)) | tr '\n' ' ')
[ "$covered" = "$expected" ] || fail "the manifests cover lines [$covered], expected [$expected] each once"
for file in $(cd "$work/reference" && find . -name '*.wav' -o -name '*.flac' | sort); do
  cmp -s "$work/reference/$file" "$work/out/$file" || fail "$file differs from the single-process run"
done
echo "test-slurm: $lines lines over a $tasks-task array: every line once, outputs equal to one process bit for bit"
printf 'test-slurm: single process %.1f s, array %.1f s (submission to the last task, %d tasks of 1 CPU)\n' "$single" "$array" "$tasks"
