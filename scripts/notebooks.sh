#!/usr/bin/env bash
# Execute the notebooks headlessly with the tslab kernel; exits non-zero if any cell errors.
#
#   npm run notebooks                      # every notebooks/*.ipynb
#   npm run notebooks -- 01-quickstart     # only those whose name contains one of the words
#   npm run notebooks -- --clear           # strip outputs from the committed notebooks, then exit
#
# Executed copies go to build/notebooks/ (ignored); the committed notebooks stay output-free.
# Needs Debian's jupyter-nbconvert, jupyter-client and python3-ipykernel (see README "Notebooks").
# PYTHON overrides the interpreter that has Jupyter (default /usr/bin/python3: the default
# `python3` on PATH may be another one without Jupyter); NB_TIMEOUT the per-cell timeout in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
python=${PYTHON:-/usr/bin/python3}
prefix=$root/build/jupyter
outdir=$root/build/notebooks

if ! "$python" -c 'import nbconvert, ipykernel, jupyter_client' 2>/dev/null; then
  echo "notebooks: $python lacks Jupyter; install: apt-get install -y --no-install-recommends jupyter-nbconvert jupyter-client python3-ipykernel" >&2
  exit 1
fi

shopt -s nullglob
all=(notebooks/*.ipynb)
if [[ ${#all[@]} -eq 0 ]]; then echo "notebooks: no notebooks/*.ipynb" >&2; exit 1; fi

if [[ ${1:-} == --clear ]]; then
  "$python" -m jupyter nbconvert --clear-output --inplace --log-level=WARN "${all[@]}"
  exit 0
fi

selected=()
if [[ $# -eq 0 ]]; then
  selected=("${all[@]}")
else
  for nb in "${all[@]}"; do
    for word in "$@"; do
      if [[ $(basename "$nb") == *"$word"* ]]; then selected+=("$nb"); break; fi
    done
  done
  if [[ ${#selected[@]} -eq 0 ]]; then echo "notebooks: none of notebooks/*.ipynb matches: $*" >&2; exit 1; fi
fi

# Committed notebooks carry no outputs (executed copies live in build/notebooks).
dirty=$("$python" - "${selected[@]}" <<'PY'
import json, sys
for path in sys.argv[1:]:
    with open(path) as f:
        nb = json.load(f)
    if any(c.get('outputs') for c in nb['cells'] if c['cell_type'] == 'code'):
        print(path)
PY
)
if [[ -n $dirty ]]; then
  echo "notebooks: these committed notebooks contain outputs; run 'npm run notebooks -- --clear' first:" >&2
  echo "$dirty" >&2
  exit 1
fi

# The notebooks import the compiled package ('..' = package.json main/types = build/lib).
npm run --silent build

# Project-local kernel registration: leaves the user's Jupyter alone.
npx --no-install tslab install --python="$python" --binary="$root/node_modules/.bin/tslab" --prefix "$prefix" >/dev/null
export JUPYTER_PATH=$prefix/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}

mkdir -p "$outdir"
failed=()
for nb in "${selected[@]}"; do
  start=$SECONDS
  echo "notebooks: executing $nb" >&2
  if "$python" -m jupyter nbconvert --to notebook --execute --log-level=WARN \
      --ExecutePreprocessor.kernel_name=tslab --ExecutePreprocessor.timeout="${NB_TIMEOUT:-900}" \
      --output-dir "$outdir" "$nb"; then
    echo "notebooks: ok $nb ($((SECONDS - start)) s) -> $outdir/$(basename "$nb")" >&2
  else
    echo "notebooks: FAILED $nb ($((SECONDS - start)) s)" >&2
    failed+=("$nb")
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "notebooks: ${#failed[@]} of ${#selected[@]} failed: ${failed[*]}" >&2
  exit 1
fi
echo "notebooks: all ${#selected[@]} executed" >&2
