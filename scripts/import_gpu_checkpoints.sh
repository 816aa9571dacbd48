#!/usr/bin/env bash
# Put checkpoints trained by scripts/gpu_train.sh into the artifact cache:
#   bash scripts/import_gpu_checkpoints.sh DIR [DIR...]   (the folders the device calls returned)
# Parts <key>.tar.part-NN are joined per key (they may be spread over several calls' folders),
# checked against manifest.json's sha256 and unpacked to $HMVLM_BENCH_CACHE/model/<key>
# (default ~/.cache/hmvlm_bench). A key with missing parts is reported and skipped; an
# existing checkpoint is left as it is.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: import_gpu_checkpoints.sh DIR [DIR...]" >&2; exit 2; }
CACHE="${HMVLM_BENCH_CACHE:-$HOME/.cache/hmvlm_bench}"
manifest=""
for d in "$@"; do [ -f "$d/manifest.json" ] && manifest="$d/manifest.json"; done
[ -n "$manifest" ] || { echo "no manifest.json in $*" >&2; exit 2; }
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
python3 - "$manifest" > "$tmp/keys.txt" <<'PY'
import json, sys
for e in json.load(open(sys.argv[1])):
    print(e["key"], e["sha256"], e["variant"], e["train_seed"], e["recipe"])
PY
status=0
while read -r key sum variant seed recipe; do
  parts=$(for d in "$@"; do ls "$d/$key".tar.part-* 2>/dev/null || true; done | awk -F/ '{print $NF "\t" $0}' | sort -u -k1,1 | cut -f2)
  if [ -z "$parts" ]; then echo "$key ($variant seed $seed, $recipe): no parts here yet"; status=1; continue; fi
  cat $parts > "$tmp/$key.tar"
  if [ "$(sha256sum "$tmp/$key.tar" | cut -d' ' -f1)" != "$sum" ]; then
    echo "$key ($variant seed $seed, $recipe): parts incomplete or corrupt (sha256 differs): skipped"; status=1; continue
  fi
  if [ -d "$CACHE/model/$key" ]; then echo "$key ($variant seed $seed, $recipe): already in $CACHE/model"; continue; fi
  mkdir -p "$CACHE/model"
  tar -C "$tmp" -xf "$tmp/$key.tar"
  mv "$tmp/$key" "$CACHE/model/$key"
  echo "$key ($variant seed $seed, $recipe): imported to $CACHE/model/$key"
done < "$tmp/keys.txt"
exit $status
