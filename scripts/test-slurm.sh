#!/usr/bin/env bash
# `npm run test:slurm`: starts the one-node cluster (scripts/slurm-local.sh), runs the Slurm scenarios
# (test/slurm/*.slurm-test.ts), and stops the daemons it started whatever happened.
set -euo pipefail
cd "$(dirname "$0")/.."
finish() {
  local rc=$?
  bash scripts/slurm-local.sh stop
  # the cluster's directory (config, state, logs; GMOE_SLURM_DIR's is the caller's to keep): removed after a
  # passing run, kept for debugging after a failed one
  if [[ -z ${GMOE_SLURM_DIR:-} && -n ${SLURM_CONF:-} ]]; then
    if [[ $rc -eq 0 ]]; then
      rm -rf "$(dirname "$SLURM_CONF")"
    else
      echo "test-slurm: kept $(dirname "$SLURM_CONF") (the cluster's config and logs) for debugging" >&2
    fi
  fi
}
trap finish EXIT
eval "$(bash scripts/slurm-local.sh start)"
export SLURM_CONF
npx vitest run --config vitest.slurm.config.ts "$@"
