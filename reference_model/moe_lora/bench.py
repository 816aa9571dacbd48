"""Layer-level timing of MoE-LoRA against its naive loop, peft LoRA and the frozen base layer.

Reused by `benchmarks/test_moe_lora_bench.py` and the `hmvlm-bench bench` command. Times are
medians from torch.utils.benchmark (which synchronises CUDA), in seconds.
"""
from __future__ import annotations

import statistics
from typing import Callable, Optional

import torch
from torch import nn

from .config import MoELoraConfig
from .layer import ExpertLoopLinear, GateState, MoELoraLinear


def build_layers(d: int, num_experts: int = 5, r: int = 8, device: str | torch.device = "cpu", seed: int = 0) -> dict[str, nn.Module]:
    """Frozen base nn.Linear(d, d) and the adapters around copies of it: moe batched / loop, peft LoRA."""
    from peft import LoraConfig
    from peft.tuners.lora.layer import Linear as LoraLinear

    torch.manual_seed(seed)
    base = nn.Linear(d, d, bias=False).to(device).requires_grad_(False)
    # Separate base copies so a merged MoE layer can never alter the others' weights.
    moe = MoELoraLinear(_copy(base), "default", MoELoraConfig(num_experts=num_experts, r=r, init_weights=False), GateState())
    lora = LoraLinear(_copy(base), "default", LoraConfig(r=r, lora_alpha=r), r=r, lora_alpha=r)
    moe.to(device)
    lora.to(device)
    return {"base": base, "moe_batched": moe, "moe_loop": ExpertLoopLinear(moe).to(device), "peft_lora": lora}


def _copy(layer: nn.Linear) -> nn.Linear:
    out = nn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None).to(layer.weight.device)
    out.load_state_dict(layer.state_dict())
    return out.requires_grad_(False)


def _interleaved_medians(
    fns: dict[str, Callable[[], object]], min_run_time: float, num_threads: int, rounds: int
) -> tuple[dict[str, float], dict[str, list[float]]]:
    """Time every fn in each of `rounds` rounds, interleaved, so load from other processes hits all
    variants alike; returns per-fn median seconds and the per-round times (for paired ratios)."""
    from torch.utils.benchmark import Timer

    per_round: dict[str, list[float]] = {k: [] for k in fns}
    numbers: dict[str, int] = {}
    for name, fn in fns.items():
        fn()  # warm-up (allocator, kernels)
        m = Timer(stmt="fn()", globals={"fn": fn}, num_threads=num_threads).blocked_autorange(
            min_run_time=min_run_time / rounds)
        numbers[name] = max(1, int(m.number_per_run * len(m.times)))
    for _ in range(rounds):
        for name, fn in fns.items():
            t = Timer(stmt="fn()", globals={"fn": fn}, num_threads=num_threads).timeit(numbers[name])
            per_round[name].append(t.median)
    return {k: statistics.median(v) for k, v in per_round.items()}, per_round


def _paired_ratio(per_round: dict[str, list[float]], num: str, den: str) -> float:
    return statistics.median(a / b for a, b in zip(per_round[num], per_round[den]))


def layer_workloads(
    d: int,
    device: str | torch.device = "cpu",
    batch: int = 4,
    tokens: int = 84,
    num_experts: int = 5,
    r: int = 8,
    seed: int = 0,
) -> dict[str, Callable[[], object]]:
    """Zero-argument callables, one per timed case: `{base,moe_batched,moe_loop,peft_lora}_{fwd,fwdbwd}`
    at x = (batch, tokens, d); `{base,moe_batched,peft_lora,moe_merged}_decode` at (1, 1, d);
    `merge_unmerge` (one layer). Shared by `layer_benchmark` and the pytest-benchmark suite."""
    device = torch.device(device)
    layers = build_layers(d, num_experts, r, device, seed)
    moe: MoELoraLinear = layers["moe_batched"]  # type: ignore[assignment]
    gen = torch.Generator(device="cpu").manual_seed(seed + 1)
    x = torch.randn(batch, tokens, d, generator=gen).to(device).requires_grad_(True)
    grad_out = torch.randn(batch, tokens, d, generator=gen).to(device)
    alpha = torch.softmax(torch.randn(batch, num_experts, generator=gen), -1).to(device).requires_grad_(True)
    alpha_fixed = alpha.detach()
    fns: dict[str, Callable[[], object]] = {}

    def ensure_gate(a: torch.Tensor) -> None:
        # Interleaved variants share one gate state; re-set only when another variant changed it.
        if moe.gate_state.alpha is not a:
            moe.gate_state.set(a)

    for name, layer in layers.items():
        params = [p for p in layer.parameters() if p.requires_grad]

        def fwd(layer=layer) -> None:
            # The gate is expanded once per batch and cached, as all layers of a model share it.
            ensure_gate(alpha_fixed)
            with torch.no_grad():
                layer(x)

        def fwdbwd(layer=layer, params=params) -> None:
            moe.gate_state.set(alpha)  # per batch, as in training (rebuilds the expanded gate)
            for p in params:
                p.grad = None
            x.grad = alpha.grad = None
            layer(x).backward(grad_out)

        fns[f"{name}_fwd"] = fwd
        fns[f"{name}_fwdbwd"] = fwdbwd

    # Single-token decode at batch 1 (HMVLM latency protocol is batch 1). The merged layer is a
    # separate MoE layer merged once, so it can be interleaved with the others.
    x1 = torch.randn(1, 1, d, generator=gen).to(device)
    a1 = torch.softmax(torch.randn(num_experts, generator=gen), -1).to(device)
    merged = build_layers(d, num_experts, r, device, seed)["moe_batched"]
    merged.gate_state.set(a1)
    merged.merge_for_request(a1)
    a1_row = a1.unsqueeze(0)

    def decode(layer: nn.Module) -> Callable[[], object]:
        def run() -> None:
            with torch.no_grad():
                ensure_gate(a1_row)
                layer(x1)
        return run

    for name in ("base", "moe_batched", "peft_lora"):
        fns[f"{name}_decode"] = decode(layers[name])
    fns["moe_merged_decode"] = decode(merged)

    def merge_unmerge() -> None:
        moe.merge_for_request(a1_row)
        moe.unmerge()

    fns["merge_unmerge"] = merge_unmerge
    return fns


def layer_benchmark(
    d: int,
    device: str | torch.device = "cpu",
    batch: int = 4,
    tokens: int = 84,
    num_experts: int = 5,
    r: int = 8,
    min_run_time: float = 0.5,
    num_threads: Optional[int] = None,
    seed: int = 0,
    rounds: int = 7,
) -> dict[str, float]:
    """Medians (s) of forward and forward+backward at (batch, tokens, d), single-token decode at
    batch 1 (base, unmerged MoE, merged MoE, peft LoRA), one per-request merge+unmerge, and ratios.

    Ratio keys: `batched_over_lora_{fwd,fwdbwd}` (target <= 1.25), `loop_over_batched_{fwd,fwdbwd}`
    (target >= 2), `merged_over_base_decode` (target <= 1.05). Ratios are medians of per-round
    ratios over `rounds` interleaved rounds (robust to other load on the machine); `min_run_time`
    is the calibration time per variant.
    """
    threads = num_threads if num_threads is not None else torch.get_num_threads()
    fns = layer_workloads(d, device, batch, tokens, num_experts, r, seed)
    medians, per_round = _interleaved_medians(fns, min_run_time, threads, rounds)
    res: dict[str, float] = {f"{k}_s": v for k, v in medians.items()}
    for key, num, den in (
        ("batched_over_lora_fwd", "moe_batched_fwd", "peft_lora_fwd"),
        ("batched_over_lora_fwdbwd", "moe_batched_fwdbwd", "peft_lora_fwdbwd"),
        ("loop_over_batched_fwd", "moe_loop_fwd", "moe_batched_fwd"),
        ("loop_over_batched_fwdbwd", "moe_loop_fwdbwd", "moe_batched_fwdbwd"),
        ("merged_over_base_decode", "moe_merged_decode", "base_decode"),
        ("unmerged_over_base_decode", "moe_batched_decode", "base_decode"),
        ("lora_over_base_decode", "peft_lora_decode", "base_decode"),
    ):
        res[key] = _paired_ratio(per_round, num, den)
    res.update({"d": float(d), "batch": float(batch), "tokens": float(tokens), "num_experts": float(num_experts),
                "r": float(r), "num_threads": float(threads)})
    return res


def model_merge_benchmark(peft_model, alpha: torch.Tensor, repeats: int = 5) -> dict[str, float]:
    """Median wall time (s) of merging one gate vector into every MoE-LoRA linear and unmerging."""
    import time

    tuner = peft_model.base_model
    n_layers = sum(1 for _ in tuner.moe_lora_layers())
    merge_t, unmerge_t = [], []
    with torch.no_grad():
        for _ in range(repeats):
            t0 = time.perf_counter()
            tuner.merge_for_request(alpha)
            _sync(alpha.device)
            t1 = time.perf_counter()
            tuner.unmerge_request()
            _sync(alpha.device)
            merge_t.append(t1 - t0)
            unmerge_t.append(time.perf_counter() - t1)
    return {"layers": float(n_layers), "merge_s": sorted(merge_t)[len(merge_t) // 2],
            "unmerge_s": sorted(unmerge_t)[len(unmerge_t) // 2]}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
