#!/usr/bin/env bash
# Command 1: set up, then run the main job on the embedded default (mini preset, offline, CPU).
# Extra arguments go to `hmvlm-bench run` (e.g. --models all).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The leaderboard goes next to the results (runs/mini/leaderboard.md, git-ignored), never over
# the committed reports/: those change only by an explicit `hmvlm-bench report --out reports/...`.
exec .venv/bin/hmvlm-bench run --tasks all "$@"
