#!/bin/bash
# A Slurm job array over one batch file (docs/batch.md). Submit it as it is:
#
#   sbatch docs/batch/slurm-array.sh prompts.jsonl out/ [more auffusion generate options]
#   sbatch --array=0-15 docs/batch/slurm-array.sh prompts.jsonl out/ --model /models/auffusion-full
#
# Each array task runs the tasks i with i mod N = K of the batch, K and N read by --shard auto
# from SLURM_ARRAY_TASK_ID and COUNT (or MAX), and writes its own manifest
# (out/manifest-K-of-N.jsonl). The array must be 0-N with step 1 (not 1-16, 0-15:2 nor 1,3,7). A
# task that is requeued resumes: --skip-existing leaves finished outputs alone. To resubmit some
# tasks of a 16-task array, give the whole count:
#
#   sbatch --array=5,9 --export=ALL,AUFFUSION_SHARD_COUNT=16 docs/batch/slurm-array.sh prompts.jsonl out/
#
# Set
# AUFFUSION_COMMAND=edit for a batch of edit plans, AUFFUSION to the binary's path if it is not on
# PATH.
#SBATCH --job-name=auffusion-batch
#SBATCH --array=0-3
#SBATCH --cpus-per-task=2
#SBATCH --output=auffusion-%A_%a.log
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: sbatch $0 BATCH.jsonl OUTPUT_DIR [auffusion options]" >&2
  exit 2
fi
batch=$1
output=$2
shift 2
export AUFFUSION_THREADS=${SLURM_CPUS_PER_TASK:-1}
exec "${AUFFUSION:-auffusion}" "${AUFFUSION_COMMAND:-generate}" --batch "$batch" --output-dir "$output" \
  --shard auto --skip-existing --quiet "$@"
