#!/usr/bin/env bash
# Train `mini` variants x training seeds on a lent GPU (issue 14, point 3) and bring the
# checkpoints back through the device tool's $OUT (at most 8 files of 16 MiB, 64 MiB a call).
#
#   bash scripts/gpu_train.sh train [VARIANTS] [SEEDS] [RECIPE]   # default: "hmvlm lora" "0" v1
#   bash scripts/gpu_train.sh fetch                               # next batch of parts (warm machine)
#   bash scripts/import_gpu_checkpoints.sh DIR...                 # here: parts -> the artifact cache
#
# `train` synthesises the preset's data on the device, checks that its train split's content
# hash equals EXPECT_TRAIN_HASH when given (a checkpoint trained on other bytes must not enter
# the cache under this data's key: the synthetic data's fingerprint is its generator config,
# not its bytes), trains each (variant, seed) with `train_model` (CUDA: bf16 autocast via
# accelerate; train_log.json names the GPU), packs each checkpoint as <key>.tar split into
# 15 MiB parts with a sha256, then puts the first parts that fit into $OUT together with
# manifest.json. Each `fetch` call (same warm machine: /tmp survives between its calls) sends
# the next parts. The shipped tokenizers, evaluator and base answers come from checkpoints/
# (tracked); checkpoints/model/ (~100 MB) must not travel: move it out of the tree for the
# calls (`mv checkpoints/model /tmp/ckpt_model_aside`, back with `git checkout checkpoints/model`).
# Offline assets as for gpu_bench.sh (scripts/pack_gpu_assets.sh, one .gpu_assets/pN per call).
# Works on CPU too (DEVICE_SMOKE=1 PRESET=tiny: the path this repo's CI-less check exercises).
set -u
cd "$(dirname "$0")/.."
MODE="${1:-train}"
PRESET="${PRESET:-mini}"
STATE=/tmp/hmvlm_gpu_train
OUT_DIR="${OUT:-runs/gpu_train_out}"
export HMVLM_BENCH_CACHE="${HMVLM_BENCH_CACHE:-$STATE/cache}"
# shellcheck source=scripts/gpu_env.sh
source scripts/gpu_env.sh
mkdir -p "$STATE/parts" "$OUT_DIR"

send_parts() {  # copy unsent parts into $OUT: at most 7 files (+ manifest) and 60 MiB
  local n=0 used=0 limit=$((60 * 1024 * 1024)) f size
  touch "$STATE/sent.txt"
  for f in "$STATE"/parts/*; do
    [ -f "$f" ] || continue
    grep -qxF "$(basename "$f")" "$STATE/sent.txt" && continue
    size=$(stat -c %s "$f")
    if [ $n -ge 7 ] || [ $((used + size)) -gt $limit ]; then break; fi
    cp "$f" "$OUT_DIR/"; basename "$f" >> "$STATE/sent.txt"; n=$((n + 1)); used=$((used + size))
  done
  [ -f "$STATE/manifest.json" ] && cp "$STATE/manifest.json" "$OUT_DIR/"
  local left=$(( $(ls "$STATE"/parts | wc -l) - $(wc -l < "$STATE/sent.txt") ))
  stamp "sent $n part(s), $((used / 1048576)) MiB; $left left (run: bash scripts/gpu_train.sh fetch)"
}

if [ "$MODE" = "fetch" ]; then send_parts; exit 0; fi
if [ "$MODE" != "train" ]; then echo "usage: gpu_train.sh train [VARIANTS] [SEEDS] [RECIPE] | fetch" >&2; exit 2; fi
VARIANTS="${2:-hmvlm lora}"
SEEDS="${3:-0}"
RECIPE="${4:-v1}"

if [ "${DEVICE_SMOKE:-0}" != "1" ]; then
  install_offline_assets || exit $?
fi

stamp "data ($PRESET) and its content hash"
cat > "$STATE/train_one.py" <<'PY'
"""Train one (variant, seed); print the checkpoint folder (an artifact of the store)."""
import sys

import reference_model.moe_lora  # noqa: F401  (registers the MoE-LoRA peft method)
from reference_model.hmvlm.training import train_model

preset, variant, seed, recipe = sys.argv[1:5]
# seed 0 and recipe v1 are the defaults: passing them names the same checkpoint
print("CHECKPOINT", train_model(preset, variant, model_args={"train_seed": seed, "recipe": recipe}, progress=False))
PY
"$PY" - "$PRESET" > "$STATE/data.txt" <<'PY' || { echo "data synthesis failed" >&2; exit 4; }
import sys
from hmvlm_bench.artifacts import open_store
from hmvlm_bench.context import DataCatalog
from hmvlm_bench.presets import get_preset

catalog = DataCatalog(get_preset(sys.argv[1]), open_store(), {})
print(catalog.fingerprint("synthetic"), catalog.get("synthetic", "train").dataset_hash())
PY
read -r DATA_FP TRAIN_HASH < "$STATE/data.txt"
echo "data $DATA_FP, train split content hash $TRAIN_HASH"
if [ -n "${EXPECT_TRAIN_HASH:-}" ] && [ "$TRAIN_HASH" != "$EXPECT_TRAIN_HASH" ]; then
  echo "train split differs from the expected one ($EXPECT_TRAIN_HASH): not training (carry the data instead)" >&2
  exit 5
fi

echo "[]" > "$STATE/manifest.json"
for variant in $VARIANTS; do
  for seed in $SEEDS; do
    stamp "train $variant seed $seed recipe $RECIPE"
    ckpt=$(timeout "${TRAIN_TIMEOUT:-900}" "$PY" "$STATE/train_one.py" "$PRESET" "$variant" "$seed" "$RECIPE" 2>"$STATE/err.txt" \
           | sed -n 's/^CHECKPOINT //p')
    if [ -z "$ckpt" ] || [ ! -d "$ckpt" ]; then
      echo "training $variant seed $seed FAILED:"; tail -20 "$STATE/err.txt"; continue
    fi
    key=$(basename "$ckpt")
    tar -C "$(dirname "$ckpt")" -cf "$STATE/$key.tar" "$key"
    sum=$(sha256sum "$STATE/$key.tar" | cut -d' ' -f1)
    split -b $((15 * 1024 * 1024)) -d -a 2 "$STATE/$key.tar" "$STATE/parts/$key.tar.part-"
    rm -f "$STATE/$key.tar"
    "$PY" - "$STATE/manifest.json" "$key" "$variant" "$seed" "$RECIPE" "$sum" "$DATA_FP" "$TRAIN_HASH" "$ckpt" <<'PY'
import json, sys
from pathlib import Path

path, key, variant, seed, recipe, sha, data_fp, train_hash, ckpt = sys.argv[1:]
log = json.loads((Path(ckpt) / "train_log.json").read_text())
entries = json.loads(Path(path).read_text())
entries.append({"key": key, "variant": variant, "train_seed": int(seed), "recipe": recipe, "sha256": sha,
                "data": data_fp, "train_split_hash": train_hash, "train_seconds": round(log["train_seconds"], 1),
                "loss_first": log["loss_first"], "loss_last": log["loss_last"], "device": log.get("device", {}),
                "val_r3": [h["val_r3"] for h in log["history"] if "val_r3" in h]})
Path(path).write_text(json.dumps(entries, indent=1) + "\n")
print(json.dumps(entries[-1]))
PY
  done
done
send_parts
stamp "done"
