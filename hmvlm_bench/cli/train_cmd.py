"""`hmvlm-bench train tokenizer|evaluator|model`: every trainer through the trainers registry."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from hmvlm_bench.cli.args import parse_kv_list
from hmvlm_bench.cli.common import area_app, help_at_display
from hmvlm_bench.cli.common import registries as _registries
from hmvlm_bench.presets import preset_help

app = area_app(help="Train tokenizers, evaluators and models (resumable, safetensors).", no_args_is_help=True)


def _trainer(name: str):
    return _registries(None).trainers.get(name)


def _variants(incomplete: str = "") -> list[str]:
    """The registered models `train model --variant` builds (registered with trainer="model")."""
    regs = _registries(None)
    return [n for n in regs.models.registered() if regs.models.meta(n).get("trainer") == "model"
            and n.startswith(incomplete)]


_VARIANT_HELP = "hmvlm or a registered variant of it{} (the models `ls models` lists; tab-completes)"
_TOKENIZER_HELP = "the tokenizer trainer's variants{}"


def _variant_help() -> str:
    """`train model --variant`: the registered models it builds (`VARIANTS` in
    reference_model/hmvlm/variants.py, reached through the models registry)."""
    try:
        names = [n for n in _variants() if n != "hmvlm"]
    except Exception:  # noqa: BLE001 - a broken plugin fails `train model` itself, not its help
        names = []
    return _VARIANT_HELP.format(": " + ", ".join(names) if names else "")


def _tokenizer_variant_help() -> str:
    """`train tokenizer --variant`: the variants the registered tokenizer trainer declares."""
    try:
        names = _registries(None).trainers.meta("tokenizer").get("variants", ())
    except Exception:  # noqa: BLE001 - as above
        names = ()
    return " | ".join(names) if names else _TOKENIZER_HELP.format("")


@app.command("tokenizer", cls=help_at_display(variant=_tokenizer_variant_help))
def train_tokenizer(
    preset: str = typer.Option("mini", help=preset_help()),
    variant: str = typer.Option("body-part", help=_TOKENIZER_HELP.format("")),
    data: Optional[str] = typer.Option(None, "--data", help="NAME=DIR (default: the preset's synthetic data)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder (default: the artifact cache)."),
    steps: Optional[int] = typer.Option(None, help="Override the preset's number of steps."),
    cache_dir: Optional[Path] = typer.Option(None, help="Artifact cache."),
) -> None:
    """Train a motion tokenizer (HMVLM body-part VQ-VAE or a whole-body baseline)."""
    path = _trainer("tokenizer")(preset=preset, variant=variant, data=data, out=out, steps=steps,
                                 cache_dir=cache_dir)
    typer.echo(str(path))


@app.command("evaluator")
def train_evaluator(
    preset: str = typer.Option("mini", help=preset_help()),
    data: Optional[str] = typer.Option(None, "--data", help="NAME=DIR (default: the preset's synthetic data)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder (default: the artifact cache)."),
    cache_dir: Optional[Path] = typer.Option(None, help="Artifact cache."),
) -> None:
    """Train the contrastive text-motion evaluator (for datasets without an official one)."""
    typer.echo(str(_trainer("evaluator")(preset=preset, data=data, out=out, cache_dir=cache_dir)))


@app.command("model", cls=help_at_display(variant=_variant_help))
def train_model(
    preset: str = typer.Option("mini", help=preset_help()),
    variant: str = typer.Option("hmvlm", help=_VARIANT_HELP.format(""), autocompletion=_variants),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder (default: the artifact cache)."),
    steps: Optional[int] = typer.Option(None, help="Override the preset's number of steps."),
    data: Optional[str] = typer.Option(None, "--data", help="NAME=DIR (default: synthetic)."),
    cache_dir: Optional[Path] = typer.Option(None, help="Artifact cache."),
    random_weights: bool = typer.Option(False, "--random-weights", help="paper preset: random weights at real shapes (smoke test)."),
    num_layers: Optional[int] = typer.Option(None, "--num-layers", help="with --random-weights: cut every tower to N layers (CPU tests)."),
    tokenizer_preset: Optional[str] = typer.Option(None, "--tokenizer-preset", help="Motion/pose tokenizer sizes from another preset (e.g. tiny for a quick paper smoke test)."),
    model_args: Optional[list[str]] = typer.Option(None, "--model-args", help="k=v[,k=v]: local model folders llm_path, clip_text_path, clip_vision_path (or clip_path for both; the paper preset needs them) and train_seed (default 0)."),
) -> None:
    """Multi-task instruction tuning (t2m + m2t + pose + general) of HMVLM or a baseline.

    Multi-GPU: `accelerate launch --multi_gpu --num_processes N -m hmvlm_bench train model ...` (DDP), or with `--config_file baselines/accelerate/fsdp_full_ft.yaml` (FSDP2, for the 7B full fine-tune). The batch stays the preset's (paper: 32 from micro-batch 2), split over the processes; checkpoints hold full tensors and resume under any process count.

    The paper preset needs `--data humanml3d=DIR` and `--model-args llm_path=DIR,...` (named up front when missing)."""  # noqa: E501
    from hmvlm_bench.distributed import setup_launched_process

    setup_launched_process()
    extra = {k: v for k, v in (("num_layers", num_layers), ("tokenizer_preset", tokenizer_preset)) if v}
    margs = parse_kv_list(model_args, "--model-args")
    if margs:  # the variant is a registered model: its declared args, checked before training
        from hmvlm_bench.preflight import check_model_args

        regs = _registries(None)
        check_model_args(margs, {variant: regs.models.get(variant)})
    path = _trainer("model")(preset=preset, variant=variant, out=out, steps=steps, data=data,
                             cache_dir=cache_dir, random_weights=random_weights,
                             model_args=margs, **extra)
    typer.echo(str(path))
