#!/usr/bin/env bash
# Joins the shards of a Slurm job-array sweep into $OUT/merged (summary.json, table, plots).
# Queued by submit.sh to run after every array task succeeded.
#SBATCH --job-name=gmoe-merge
#SBATCH --cpus-per-task=1
#SBATCH --mem=4G
#SBATCH --time=01:00:00
#SBATCH --output=gmoe-merge-%j.log
set -euo pipefail

PRESET=${PRESET:-demy-exact}
OUT=${OUT:-$PWD/results/$PRESET-slurm}
cd "${GMOE_DIR:-${SLURM_SUBMIT_DIR:-.}}"

# merge checks that all shards ran the same spec, and says how many cells are missing
npx gmoe merge "$OUT"/shard-* --out "$OUT/merged"
