#!/usr/bin/env bash
# `npm run test:slurm`: starts the one-node cluster (scripts/slurm-local.sh), runs the Slurm scenarios
# (test/slurm/*.slurm-test.ts), and stops the daemons it started whatever happened.
set -euo pipefail
cd "$(dirname "$0")/.."
trap 'bash scripts/slurm-local.sh stop' EXIT
eval "$(bash scripts/slurm-local.sh start)"
export SLURM_CONF
npx vitest run --config vitest.slurm.config.ts "$@"
