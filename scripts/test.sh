#!/usr/bin/env bash
# Command 2: set up, then run the fast test tier (slow tests: scripts/test.sh -m slow).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The HTML report test opens the page in a real headless browser (Debian chromium) and the
# LaTeX test compiles the table (pdflatex + booktabs). Installed once, when we are root.
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pdflatex >/dev/null 2>&1 || need+=(texlive-latex-base texlive-latex-recommended)
if [ "${#need[@]}" -gt 0 ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null) \
    || echo "test: could not install ${need[*]}; browser/LaTeX tests will be skipped"
fi
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1
if [ "$#" -eq 0 ]; then set -- -m "not slow and not cuda"; fi
exec .venv/bin/python -m pytest -q -p no:cacheprovider --timeout 900 "$@"
