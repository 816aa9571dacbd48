"""Layer-level timing of MoE-LoRA against its naive loop, peft LoRA and the frozen base layer.

Reused by `benchmarks/test_moe_lora_bench.py` and the `hmvlm-bench bench` layer suite. Times
are medians of interleaved rounds from the core timers (`hmvlm_bench.bench.timing`, which
synchronise CUDA), in seconds.
"""
from __future__ import annotations

from typing import Callable, Optional

import torch
from torch import nn

from hmvlm_bench.bench.timing import median_ratio, time_interleaved, timed_call, torch_threads
from reference_model.moe_lora.config import MoELoraConfig
from reference_model.moe_lora.layer import ExpertLoopLinear, GateState, MoELoraLinear


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
    with torch_threads(threads):
        stats = time_interleaved(fns, device, warmup=1, rounds=rounds, min_time=min_run_time / rounds)
    per_round = {k: v.times for k, v in stats.items()}
    res: dict[str, float] = {f"{k}_s": v.median for k, v in stats.items()}
    for key, num, den in (
        ("batched_over_lora_fwd", "moe_batched_fwd", "peft_lora_fwd"),
        ("batched_over_lora_fwdbwd", "moe_batched_fwdbwd", "peft_lora_fwdbwd"),
        ("loop_over_batched_fwd", "moe_loop_fwd", "moe_batched_fwd"),
        ("loop_over_batched_fwdbwd", "moe_loop_fwdbwd", "moe_batched_fwdbwd"),
        ("merged_over_base_decode", "moe_merged_decode", "base_decode"),
        ("unmerged_over_base_decode", "moe_batched_decode", "base_decode"),
        ("lora_over_base_decode", "peft_lora_decode", "base_decode"),
    ):
        res[key] = median_ratio(per_round[num], per_round[den])
    res.update({"d": float(d), "batch": float(batch), "tokens": float(tokens), "num_experts": float(num_experts),
                "r": float(r), "num_threads": float(threads)})
    return res


def model_merge_benchmark(peft_model, alpha: torch.Tensor, repeats: int = 5) -> dict[str, float]:
    """Median time (s) of merging one gate vector into every MoE-LoRA linear and unmerging."""
    import statistics

    tuner = peft_model.base_model
    n_layers = sum(1 for _ in tuner.moe_lora_layers())
    merge_t, unmerge_t = [], []
    with torch.no_grad():
        for _ in range(repeats):
            merge_t.append(timed_call(lambda: tuner.merge_for_request(alpha), alpha.device))
            unmerge_t.append(timed_call(tuner.unmerge_request, alpha.device))
    return {"layers": float(n_layers), "merge_s": statistics.median_high(merge_t),
            "unmerge_s": statistics.median_high(unmerge_t)}
