#!/usr/bin/env bash
# Create ./.venv if needed and install wsss with its dependencies (idempotent; a no-op when up to date).
#   bash tools/bootstrap.sh            # then .venv/bin/python tools/demo.py  or  .venv/bin/python -m pytest
# torch and torchvision are installed as a matching pair from the package index (the CPU-only torch wheel
# has no matching torchvision). Override with WSSS_TORCH_SPEC="torch==X torchvision==Y".
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${WSSS_VENV:-.venv}
TORCH_SPEC=${WSSS_TORCH_SPEC:-"torch==2.14.1 torchvision==0.29.1"}
stamp="$VENV/.wsss-installed"
want="$(cat setup.cfg pyproject.toml | sha256sum | cut -c1-16) $TORCH_SPEC"
if [ -x "$VENV/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
echo "[bootstrap] installing into $VENV (first time: a few minutes)" >&2
"$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
# --no-compile: no .pyc for all of torch at install time (~40 s of torch's ~85 s here); the modules a run imports
# are compiled on first import and cached in the venv (benchmarks/RESULTS.md, "CPU time of the demo")
# shellcheck disable=SC2086
"$VENV/bin/python" -m pip install -q --no-compile $TORCH_SPEC
"$VENV/bin/python" -m pip install -q --no-compile -e '.[test]'
"$VENV/bin/python" -c "import torch, torchvision, mmengine, timm, pydensecrf.densecrf, mmseg.evaluation" \
  || { echo '[bootstrap] dependency import check failed' >&2; exit 1; }
echo "$want" > "$stamp"
