"""lm-evaluation-harness view of our models: `lm_eval --model hmvlm` and `run_suite`.

Any model is wrapped through a small protocol (`LMBackend`): an object with `hf_model`
(a causal HF model, possibly peft-wrapped), `tokenizer`, and optionally
`route(prompts) -> context manager`, which sets per-sample gate weights (MoE-LoRA routes
per sample from the prompt, HMVLM sec. 3) for the batch run inside the context. Rows of
every batch are in the same order as `prompts`.

lm-eval 0.4.13 reads no plugin entry points for models; the installed package adds an
import hook (`hmvlm_bench.lm_eval_hook`, run from a .pth file) that registers `hmvlm` when
lm-eval loads its registry, so the stock `lm_eval --model hmvlm ...` works. Importing
this module registers it too (`python -m hmvlm_bench.lm_eval_cli`, `run_suite`).
"""
from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ContextManager, Iterable, Iterator, Protocol, Sequence, runtime_checkable

import lm_eval.models  # noqa: F401  (lm-eval fills its own registry only while it is empty)
from lm_eval.api.model import TemplateLM
from lm_eval.api.registry import register_model

from hmvlm_bench.errors import UserError
from hmvlm_bench.progress import advance, sample_bar

DEFAULT_MODEL = "hmvlm"  # `--model hmvlm` scores the tuned model unless told `model=base`
DEFAULT_PRESET = "mini"  # as `hmvlm-bench run`
DEFAULT_BATCH_SIZE = 8
DEFAULT_MAX_LENGTH = 2048  # caps SmolLM2's 8192 context: rolling windows stay CPU-sized
MAX_BATCH_TOKENS = 4096  # padded tokens per scoring batch: full-vocab logits stay < 1 GB


@runtime_checkable
class LMBackend(Protocol):
    """What the adapter needs from a model. `route` is optional (see module docstring)."""

    hf_model: Any
    tokenizer: Any


@dataclass
class HFBackend:
    """A plain backend: an HF causal LM and its tokenizer, no routing."""

    hf_model: Any
    tokenizer: Any
    name: str = "hf"
    fingerprint: str = ""
    info: dict[str, Any] = field(default_factory=dict)


def _offline_env() -> None:
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


def build_lm_backend(model_args: dict[str, Any]) -> LMBackend:
    """Build a backend from `--model_args` (strings as lm-eval parses them).

    `model=NAME` (default `hmvlm`, the tuned reference model) is a model of the
    hmvlm-bench registry (hmvlm, lora, no-zero, ...), built for `preset` (default `mini`)
    with the remaining arguments as its model args; its `lm_backend()` is returned.
    `model=base` is the preset's base LLM alone: `preset=tiny` (random tiny Llama, seed
    `seed`), `preset=mini` (SmolLM2-135M-Instruct), or any preset with `llm_path=DIR` (a
    local HF causal LM, e.g. Vicuna-7B).
    """
    from hmvlm_bench import base_llm

    args = {k: str(v) for k, v in model_args.items()}
    model = args.pop("model", DEFAULT_MODEL)
    preset = args.pop("preset", DEFAULT_PRESET)
    if model != "base":
        return _registry_backend(model, preset, args)
    seed = int(args.pop("seed", 0))
    llm_path = args.pop("llm_path", None)
    if args:
        raise UserError(f"unknown model_args for model=base: {', '.join(sorted(args))}")
    if llm_path:  # the checkpoint's own dtype, as stock lm-eval (hmvlm_bench.base_llm says why)
        hf_model, tok = base_llm.load_base_llm(Path(llm_path).name, path=llm_path, dtype="auto",
                                               local_files_only=False)
        return HFBackend(hf_model, tok, name=Path(llm_path).name, fingerprint=f"path:{Path(llm_path).resolve()}")
    llm = base_llm.BASE_LLMS.get(preset)  # the model's own table (HMVLMConfig.for_preset)
    if llm in base_llm.BUILTIN:
        hf_model, tok = base_llm.load_base_llm(llm, seed=seed)
        return HFBackend(hf_model, tok, name=llm, fingerprint=base_llm.builtin_fingerprint(llm, seed=seed))
    raise UserError(f"preset '{preset}' has no built-in base LLM: pass llm_path=DIR")


def describe_backend(backend: Any, model_args: dict[str, Any]) -> str:
    """One line: model name, preset, fingerprint, and how to get the other kind."""
    name = getattr(backend, "name", type(backend).__name__)
    preset = model_args.get("preset", DEFAULT_PRESET)
    fp = str(getattr(backend, "fingerprint", ""))[:16]
    other = ("model=base scores the untouched base LLM" if str(model_args.get("model", DEFAULT_MODEL)) != "base"
             else "model=hmvlm (or lora, ...) scores a tuned model")
    return f"model '{name}' (preset {preset}{', ' + fp if fp else ''}); {other}"


def _registry_backend(model: str, preset: str, model_args: dict[str, str]) -> LMBackend:
    """Any registered BenchModel with the language_model capability, as a backend."""
    from hmvlm_bench.artifacts import open_store
    from hmvlm_bench.context import DataCatalog, ModelContext
    from hmvlm_bench.contracts import Capability
    from hmvlm_bench.plugins import load_registries
    from hmvlm_bench.presets import get_preset

    regs = load_registries()
    cls = regs.models.get(model)
    if Capability.LANGUAGE_MODEL not in cls.capabilities:
        raise UserError(f"model '{model}' has no language-model view for lm-eval")
    p = get_preset(preset)
    store = open_store()
    ctx = ModelContext(preset=p, data=DataCatalog(p, store), artifacts=store, model_args=model_args,
                       device=p.device)
    return cls(ctx).lm_backend()


def _route(backend: Any, prompts: list[str]) -> ContextManager[Any]:
    route: Callable[[list[str]], ContextManager[Any]] | None = getattr(backend, "route", None)
    return route(prompts) if route is not None else contextlib.nullcontext()


def _batches(order: Sequence[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(order), size):
        yield list(order[start:start + size])


def _token_batches(order: Sequence[int], lengths: Sequence[int], size: int, max_tokens: int = MAX_BATCH_TOKENS) -> Iterable[list[int]]:
    """Batches of at most `size` rows and `max_tokens` padded tokens (`order`: longest first)."""
    batch: list[int] = []
    for i in order:
        width = lengths[batch[0]] if batch else lengths[i]
        if batch and (len(batch) == size or (len(batch) + 1) * width > max_tokens):
            yield batch
            batch = []
        batch.append(i)
    if batch:
        yield batch


@register_model("hmvlm")
class HmvlmLM(TemplateLM):
    """lm-eval `LM` over an `LMBackend`; loglikelihood, rolling and greedy generation.

    Batches are left-padded with explicit position ids, so the same code scores and
    generates. Requests are sorted longest first; results return in request order.
    """

    def __init__(
        self,
        backend: LMBackend | None = None,
        batch_size: int | str | None = DEFAULT_BATCH_SIZE,
        max_length: int | str | None = None,
        max_batch_size: int | None = None,
        device: str | None = None,
        **model_args: Any,
    ) -> None:
        super().__init__()
        _offline_env()
        import torch

        if backend is None:
            backend = build_lm_backend(model_args)
            # lm-eval users pass model_args blind: say which model these scores belong to
            print(f"hmvlm lm-eval: scoring {describe_backend(backend, model_args)}", file=sys.stderr)
        elif model_args:
            raise UserError(f"model_args {sorted(model_args)} given together with a backend object")
        if not isinstance(backend, LMBackend):
            raise UserError("an lm-eval backend needs `hf_model` and `tokenizer` attributes")
        self.backend = backend
        self.hf_model = backend.hf_model
        self.tokenizer = backend.tokenizer
        self.hf_model.eval()
        if batch_size in (None, "auto") or str(batch_size).startswith("auto"):
            batch_size = DEFAULT_BATCH_SIZE
        self.batch_size = int(batch_size)
        if self.batch_size < 1:
            raise UserError(f"batch_size must be >= 1, got {batch_size}")
        cfg_len = int(getattr(self.hf_model.config, "max_position_embeddings", DEFAULT_MAX_LENGTH))
        self.max_length = int(max_length) if max_length is not None else min(cfg_len, DEFAULT_MAX_LENGTH)
        # lm-eval's CLI passes device="cuda:0" by default: honour it only where CUDA exists.
        model_device = next(self.hf_model.parameters()).device
        wanted = torch.device(device) if device else model_device
        if wanted.type == "cuda" and not torch.cuda.is_available():
            wanted = model_device
        if wanted != model_device:
            self.hf_model.to(wanted)
        self._device = wanted
        tok = self.tokenizer
        self.pad_token_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        self.timings: dict[str, float] = {}
        self.progress = True  # bars over scored/generated requests (run_suite may turn them off)
        self._ll_bar = True

    def get_model_info(self) -> dict[str, Any]:
        """Merged into lm-eval's results `config` (which model, which weights)."""
        b = self.backend
        return {"hmvlm_model": getattr(b, "name", type(b).__name__),
                "hmvlm_fingerprint": getattr(b, "fingerprint", "")}

    def _bar_desc(self, kind: str) -> str:
        return f"{getattr(self.backend, 'name', 'lm')} {kind}"

    # ----------------------------------------------------------------- lm-eval plumbing
    @property
    def eot_token_id(self) -> int:
        return int(self.tokenizer.eos_token_id)

    @property
    def prefix_token_id(self) -> int:
        bos = self.tokenizer.bos_token_id
        return int(bos) if bos is not None else self.eot_token_id

    @property
    def tokenizer_name(self) -> str:
        return str(getattr(self.tokenizer, "name_or_path", "tokenizer")).replace("/", "__")

    def apply_chat_template(self, chat_history: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
        return self.tokenizer.apply_chat_template(
            chat_history, tokenize=False, add_generation_prompt=add_generation_prompt
        )

    def tok_encode(self, string: str, add_special_tokens: bool | None = None, **kwargs: Any) -> list[int]:
        return list(self.tokenizer(string, add_special_tokens=bool(add_special_tokens))["input_ids"])

    def tok_decode(self, tokens: Sequence[int]) -> str:
        return self.tokenizer.decode(list(tokens), skip_special_tokens=False)

    # ----------------------------------------------------------------- core scoring
    def _left_pad(self, rows: list[list[int]]) -> tuple[Any, Any, Any]:
        import torch

        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, width - len(r):] = torch.tensor(r, dtype=torch.long)
            mask[i, width - len(r):] = 1
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        return ids.to(self._device), mask.to(self._device), positions.to(self._device)

    def _score_tokens(self, items: list[tuple[str, list[int], list[int]]]) -> list[tuple[float, bool]]:
        """Sum log p(continuation | context) per item: (route prompt, context ids, continuation ids)."""
        import torch

        results: list[tuple[float, bool] | None] = [None] * len(items)
        inputs = []
        for _, ctx, cont in items:
            if not cont:
                raise UserError("an lm-eval request has an empty continuation")
            whole = (ctx + cont)[-(self.max_length + 1):]
            inputs.append(whole[:-1])
        order = sorted(range(len(items)), key=lambda i: -len(inputs[i]))
        for batch in _token_batches(order, [len(inputs[i]) for i in range(len(items))], self.batch_size):
            ids, mask, positions = self._left_pad([inputs[i] for i in batch])
            n_keep = max(len(items[i][2]) for i in batch)
            with torch.no_grad(), _route(self.backend, [items[i][0] for i in batch]):
                logits = self.hf_model(
                    input_ids=ids, attention_mask=mask, position_ids=positions, logits_to_keep=n_keep
                ).logits[:, -n_keep:]
            for row, i in enumerate(batch):
                cont = items[i][2]
                lp = torch.log_softmax(logits[row, n_keep - len(cont):].float(), dim=-1)
                target = torch.tensor(cont, dtype=torch.long, device=lp.device)
                total = lp.gather(-1, target[:, None]).sum().item()
                greedy = bool((lp.argmax(-1) == target).all().item())
                results[i] = (float(total), greedy)
            advance(len(batch))
        return [r for r in results if r is not None]

    def loglikelihood(self, requests: list[Any], disable_tqdm: bool = False) -> list[tuple[float, bool]]:
        # lm-eval's own "Tokenizing inputs" bar is instant noise; ours counts scored requests
        self._ll_bar = not disable_tqdm
        return super().loglikelihood(requests, disable_tqdm=True)

    def _loglikelihood_tokens(self, requests: list[tuple[tuple[str, str], list[int], list[int]]], **kwargs: Any) -> list[tuple[float, bool]]:
        start = time.perf_counter()
        with sample_bar(len(requests), self._bar_desc("loglikelihood"), enabled=self.progress and self._ll_bar,
                        unit="request"):
            out = self._score_tokens([(ctx_str, ctx, cont) for (ctx_str, _), ctx, cont in requests])
        self.timings["loglikelihood_s"] = self.timings.get("loglikelihood_s", 0.0) + time.perf_counter() - start
        return out

    def loglikelihood_rolling(self, requests: list[Any], disable_tqdm: bool = False) -> list[float]:
        from lm_eval.utils import get_rolling_token_windows, make_disjoint_window

        start = time.perf_counter()
        windows: list[tuple[str, list[int], list[int]]] = []
        owner: list[int] = []
        for r, req in enumerate(requests):
            (text,) = req.args
            for window in get_rolling_token_windows(
                token_list=self.tok_encode(text), prefix_token=self.prefix_token_id,
                max_seq_len=self.max_length, context_len=1,
            ):
                ctx, cont = make_disjoint_window(window)
                windows.append((text, list(ctx), list(cont)))
                owner.append(r)
        with sample_bar(len(windows), self._bar_desc("rolling loglikelihood"),
                        enabled=self.progress and not disable_tqdm,
                        unit="window"):
            scores = self._score_tokens(windows)
        totals = [0.0] * len(requests)
        for r, (lp, _) in zip(owner, scores):
            totals[r] += lp
        for req, total in zip(requests, totals):
            self.cache_hook.add_partial("loglikelihood_rolling", req.args, total)
        self.timings["loglikelihood_rolling_s"] = self.timings.get("loglikelihood_rolling_s", 0.0) + time.perf_counter() - start
        return totals

    def generate_until(self, requests: list[Any], disable_tqdm: bool = False) -> list[str]:
        start = time.perf_counter()
        results: list[str] = [""] * len(requests)
        groups: dict[str, list[int]] = {}
        for i, req in enumerate(requests):
            groups.setdefault(repr(sorted(req.args[1].items())), []).append(i)
        with sample_bar(len(requests), self._bar_desc("generate"), enabled=self.progress and not disable_tqdm,
                        unit="request"):
            self._generate_groups(requests, groups, results)
        self.timings["generate_until_s"] = self.timings.get("generate_until_s", 0.0) + time.perf_counter() - start
        return results

    def _generate_groups(self, requests: list[Any], groups: dict[str, list[int]], results: list[str]) -> None:
        for members in groups.values():
            kwargs = dict(requests[members[0]].args[1])
            until = kwargs.pop("until", None) or []
            until = [until] if isinstance(until, str) else list(until)
            max_new = int(kwargs.pop("max_gen_toks", 256))
            if kwargs.pop("do_sample", False) or float(kwargs.pop("temperature", 0.0) or 0.0) > 0:
                raise UserError("the hmvlm lm-eval model decodes greedily only (do_sample=false, temperature=0)")
            texts = self.generate([requests[i].args[0] for i in members], until=until, max_new_tokens=max_new)
            for i, text in zip(members, texts):
                results[i] = text
                self.cache_hook.add_partial("generate_until", requests[i].args, text)

    def generate(self, contexts: Sequence[str], until: Sequence[str] = (), max_new_tokens: int = 48) -> list[str]:
        """Greedy continuations, cut at the first stop string or EOS (lm-eval's path, reusable)."""
        import torch

        ctx_ids = [self.tok_encode(c)[-max(1, self.max_length - max_new_tokens):] for c in contexts]
        results = [""] * len(contexts)
        order = sorted(range(len(contexts)), key=lambda i: -len(ctx_ids[i]))
        for batch in _batches(order, self.batch_size):
            ids, mask, _ = self._left_pad([ctx_ids[i] for i in batch])
            with torch.no_grad(), _route(self.backend, [contexts[i] for i in batch]):
                out = self.hf_model.generate(
                    input_ids=ids, attention_mask=mask, max_new_tokens=max_new_tokens, do_sample=False,
                    pad_token_id=self.pad_token_id, eos_token_id=self.eot_token_id,
                )
            for row, i in enumerate(batch):
                text = self.tokenizer.decode(out[row, ids.shape[1]:], skip_special_tokens=False)
                results[i] = _cut_at_stops(text, [*until, self.tokenizer.eos_token])
            advance(len(batch))
        return results


def _cut_at_stops(text: str, stops: Iterable[str | None]) -> str:
    for stop in stops:
        if stop:
            text = text.split(stop, 1)[0]
    return text


def task_manager(include_path: str | Path) -> Any:
    """lm-eval TaskManager over our YAML folder only (skips indexing lm-eval's 14k YAMLs)."""
    from lm_eval.tasks import TaskManager

    path = Path(include_path)
    if not path.is_dir():
        raise UserError(f"lm-eval task folder {path} does not exist")
    return TaskManager(include_path=str(path), include_defaults=False)


@contextlib.contextmanager
def _quiet_lm_eval() -> Iterator[None]:
    """Two lm-eval habits that only add noise when it runs inside `hmvlm-bench run`:
    it runs `git describe` with stderr unredirected (outside a repository every run printed
    `fatal: not a git repository`; our results carry their own git hash), and it draws an
    instant "building contexts" bar per task. Both are swapped out while our suites run."""
    from functools import partial

    import lm_eval.api.task as task_mod
    import lm_eval.evaluator as ev
    from tqdm import tqdm

    from hmvlm_bench.provenance import git_hash

    saved = ev.get_git_commit_hash, task_mod.tqdm
    ev.get_git_commit_hash, task_mod.tqdm = git_hash, partial(tqdm, disable=True)
    try:
        yield
    finally:
        ev.get_git_commit_hash, task_mod.tqdm = saved


def run_suite(
    lm_backend: LMBackend | HmvlmLM,
    tasks: list[str],
    include_path: str | Path,
    limit: int | float | None = None,
    seed: int = 0,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: bool = True,
) -> dict[str, Any]:
    """Run lm-eval `simple_evaluate` on our tasks; return metrics and per-sample records.

    Returns {"results": {task: {metric: value}}, "samples": {task: [record, ...]},
    "n_samples": {task: n}, "versions": {task: version}, "timings_s": {...}}. Each record
    holds `doc_id`, `doc`, `target`, `filtered_resps` and the per-item metric values
    (`acc`, `rouge_l_f`, ...), sorted by `doc_id`, ready for `forgetting_scores`.
    """
    _offline_env()
    from lm_eval import simple_evaluate

    lm = lm_backend if isinstance(lm_backend, HmvlmLM) else HmvlmLM(backend=lm_backend, batch_size=batch_size)
    lm.progress = progress
    start = time.perf_counter()
    # ERROR: lm-eval's WARNINGs here are notices about its CLI (--metadata, --limit), not ours
    with _quiet_lm_eval():
        out = simple_evaluate(
            model=lm, tasks=list(tasks), task_manager=task_manager(include_path), limit=limit,
            log_samples=True, random_seed=seed, numpy_random_seed=seed, torch_random_seed=seed,
            fewshot_random_seed=seed, bootstrap_iters=0, verbosity="ERROR",
        )
    elapsed = time.perf_counter() - start
    if out is None:
        raise UserError("lm-eval returned no results")
    results = {
        task: {
            k.split(",")[0]: v for k, v in metrics.items()
            if "," in k and "_stderr" not in k and isinstance(v, (int, float))
        }
        for task, metrics in out["results"].items()
    }
    samples = {
        task: sorted(({k: v for k, v in rec.items() if k not in ("arguments", "resps")} for rec in recs), key=lambda r: r["doc_id"])
        for task, recs in out.get("samples", {}).items()
    }
    return {
        "results": results,
        "samples": samples,
        "n_samples": {t: v.get("effective", v.get("original")) for t, v in out.get("n-samples", {}).items()},
        "versions": dict(out.get("versions", {})),
        # configs hold callables (`!function` hooks): stringify so results stay JSON
        "configs": json.loads(json.dumps(out.get("configs", {}), default=str)),
        "timings_s": {"total": elapsed, **lm.timings},
    }
