#!/usr/bin/env bash
# One task of a gmoe sweep run as a Slurm job array: task t runs shard t+1 of N into $OUT/shard-t.
# Submit with ./submit.sh (which also queues the merge), or by hand:
#   PRESET=demy-exact OUT=$PWD/results/demy-exact-slurm sbatch --array=0-15 sweep-array.sh
#SBATCH --job-name=gmoe-sweep
#SBATCH --array=0-15
#SBATCH --cpus-per-task=8
#SBATCH --mem=8G
#SBATCH --time=24:00:00
#SBATCH --requeue
#SBATCH --signal=B:TERM@120
#SBATCH --output=gmoe-sweep-%A_%a.log
set -euo pipefail

PRESET=${PRESET:-demy-exact}          # an experiment preset (gmoe presets) or a spec JSON file
OUT=${OUT:-$PWD/results/$PRESET-slurm}
EXTRA=${EXTRA:-}                      # e.g. "--quick" or "--reps 20 --seed 7": identical for every task
# the number of shards: submit.sh exports it; a task resubmitted alone (sbatch --array=3) must be
# given it (TASKS=16), since Slurm then counts an array of one task
TASKS=${TASKS:-$SLURM_ARRAY_TASK_COUNT}
cd "${GMOE_DIR:-${SLURM_SUBMIT_DIR:-.}}"   # the gmoe checkout (after `npm ci`)

# --resume: a requeued or restarted task continues its shard instead of starting over
# (it starts fresh when the directory does not exist yet). Shards skip the PNG: compute nodes
# often lack Chromium; the merge renders it.
# exec node (not npx, which does not pass SIGTERM on): the batch shell becomes gmoe itself, so
# --signal=B:TERM (before the time limit) and scancel reach it; it stops, keeping its finished cells.
# shellcheck disable=SC2086
exec node bin/gmoe.js sweep "$PRESET" $EXTRA \
  --shard "$((SLURM_ARRAY_TASK_ID + 1))/$TASKS" \
  --out "$OUT/shard-$SLURM_ARRAY_TASK_ID" \
  --workers "${SLURM_CPUS_PER_TASK:-1}" \
  --resume --no-png
