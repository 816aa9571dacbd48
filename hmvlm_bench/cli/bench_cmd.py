"""`hmvlm-bench bench`: throughput and memory suites (hmvlm_bench/bench). Registered on the
root app by cli/main.py."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from hmvlm_bench.cli.args import parse_csv
from hmvlm_bench.cli.common import area_app

app = area_app()


# ------------------------------------------------------------------------------- bench
@app.command()
def bench(
    device: str = typer.Option("cpu", help="cpu | cuda"),
    shapes: str = typer.Option("mini", help="mini (SmolLM2-135M shapes) | llama-7b"),
    batch_sizes: str = typer.Option("1,8,32", "--batch-sizes", help="Generation batch sizes."),
    out: Path = typer.Option(Path("runs/bench"), "--out", help="Output folder."),
    quick: bool = typer.Option(False, help="Fewer repeats (smoke test)."),
    suites: Optional[str] = typer.Option(None, "--suites", metavar="NAME,...",
                                         help="Only these suites (default: all; e.g. training = one "
                                              "instruction-tuning step, optimised vs plain fp32)."),
) -> None:
    """Throughput: MoE-LoRA layers, generation tok/s, paper latency protocol, tokenizers,
    training step, memory."""
    from hmvlm_bench.bench.cli import bench_cmd

    for path in bench_cmd(device=device, shapes=shapes,
                          batch_sizes=[int(b) for b in parse_csv(batch_sizes)], out=out, quick=quick,
                          suites=parse_csv(suites) if suites else None):
        typer.echo(str(path))
