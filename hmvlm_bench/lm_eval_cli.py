"""`python -m hmvlm_bench.lm_eval_cli ...`: lm-eval's own CLI with `--model hmvlm` registered.

The installed package makes the stock `lm_eval --model hmvlm` work (an import hook from a
.pth file, see `hmvlm_bench.lm_eval_hook`); this wrapper is the fallback where the .pth is
not installed: it imports our adapter first, then hands the unchanged arguments to lm-eval:

    python -m hmvlm_bench.lm_eval_cli --model hmvlm --model_args preset=tiny \
        --tasks hmvlm_forgetting --include_path tasks/lm_eval --limit 8
"""
from __future__ import annotations

import os


def main() -> None:
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import hmvlm_bench.lm_eval_adapter  # noqa: F401  (registers "hmvlm")
    from lm_eval.__main__ import cli_evaluate

    cli_evaluate()


if __name__ == "__main__":
    main()
