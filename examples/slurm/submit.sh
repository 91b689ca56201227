#!/usr/bin/env bash
# Submits a whole sweep: an array of N shard tasks, then the merge once all of them succeeded.
#   ./submit.sh demy-exact 16            # the paper's size on 16 tasks
#   EXTRA=--quick ./submit.sh temp-exact 4
#   SBATCH_ARGS="--cpus-per-task=1 --mem=1G" ./submit.sh spec.json 4   # sbatch options for both jobs (override #SBATCH)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export PRESET=${1:-demy-exact}
export TASKS=${2:-16}
export OUT=${OUT:-$PWD/results/$PRESET-slurm}
export EXTRA=${EXTRA:-}
export GMOE_DIR=${GMOE_DIR:-$PWD}
SBATCH_ARGS=${SBATCH_ARGS:-}
mkdir -p "$OUT"
# shellcheck disable=SC2086
array=$(sbatch --parsable --export=ALL $SBATCH_ARGS --array=0-$((TASKS - 1)) "$here/sweep-array.sh")
array=${array%%;*}
# shellcheck disable=SC2086
merge=$(sbatch --parsable --export=ALL $SBATCH_ARGS --dependency=afterok:"$array" "$here/merge.sh")
echo "sweep array job $array ($TASKS tasks), merge job $merge; results in $OUT/merged"
