#!/usr/bin/env bash
# Command 1: set up, then run the main job on the embedded default (mini preset, offline, CPU).
# Extra arguments go to `hmvlm-bench run` (e.g. --models all).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/hmvlm-bench run --tasks all --report-dir reports/mini "$@"
