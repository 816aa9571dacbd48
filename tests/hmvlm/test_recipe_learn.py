"""Recipe `learn` pieces: codebook-initialised token rows and the t2m prompt-variant share."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from reference_model.hmvlm.config import RECIPES, HMVLMConfig, model_arg_overrides
from reference_model.hmvlm.instruct_data import t2m_variant
from reference_model.hmvlm.vocab import init_rows_from_codebooks, new_token_parameters
from reference_model.tokenizer.tokens import code_token, stream_names
from tests.hmvlm.conftest import build_tiny, tiny_tokenizers


def test_t2m_variant_default_keeps_v1_thirds():
    keys = np.random.default_rng(0).integers(1 << 30, size=300)
    assert [t2m_variant(int(k), None) for k in keys] == [("text", "first_token", "last_token")[k % 3] for k in keys]


@pytest.mark.parametrize("share", [0.0, 0.6, 1.0])
def test_t2m_variant_share(share):
    keys = np.random.default_rng(1).integers(1 << 30, size=4000)
    got = [t2m_variant(int(k), share) for k in keys]
    frac = got.count("text") / len(got)
    assert abs(frac - share) < 0.03
    hinted = [g for g in got if g != "text"]
    if hinted:  # the two hints evenly
        assert abs(hinted.count("first_token") / len(hinted) - 0.5) < 0.05


def test_codebook_init_keeps_codebook_geometry():
    net = build_tiny(randomize_experts=False)
    motion_tok = net.motion_tok
    gen = torch.Generator().manual_seed(3)
    books = [torch.randn(q.codebook.shape, generator=gen) for q in motion_tok.quantizers]
    books[0][1] = books[0][0] + 0.01  # code 1 almost equal to code 0, code 2 far away
    books[0][2] = books[0][0] + 5.0
    model = net.llm.get_base_model() if hasattr(net.llm, "get_base_model") else net.llm
    text_before = model.get_input_embeddings().weight.detach().clone()
    n = init_rows_from_codebooks(model, net.vocab, {"motion": books}, seed=0)
    assert n == len(books) * books[0].shape[0]
    extra = new_token_parameters(model)["embed"].detach()
    row = {c: extra[net.vocab.id(code_token("motion", stream_names(len(books))[0], c)) - net.vocab.base_vocab]
           for c in range(3)}
    assert torch.dist(row[0], row[1]) < 0.05 * torch.dist(row[0], row[2])
    # rows of different streams differ even for equal codebook vectors (per-stream projection)
    s1 = extra[net.vocab.id(code_token("motion", stream_names(len(books))[1], 0)) - net.vocab.base_vocab]
    assert torch.dist(row[0], s1) > 0.1 * float(text_before.std())
    assert torch.equal(model.get_input_embeddings().weight.detach(), text_before)  # text rows untouched
    assert torch.isfinite(extra).all()


def test_codebook_init_is_seeded_and_differs_from_mean_init():
    a = build_tiny(randomize_experts=False, new_row_init="codebook")
    b = build_tiny(randomize_experts=False, new_row_init="codebook")
    c = build_tiny(randomize_experts=False)
    ea, eb, ec = (new_token_parameters(n.llm.get_base_model())["embed"].detach() for n in (a, b, c))
    assert torch.equal(ea, eb)
    assert not torch.equal(ea, ec)


def test_recipe_learn_resolves_and_keys_differ():
    over = model_arg_overrides({"recipe": "learn"})
    cfg = HMVLMConfig.for_preset("mini", "hmvlm", **over)
    assert cfg.new_row_init == "codebook" and cfg.t2m_text_share == RECIPES["learn"]["t2m_text_share"]
    d = cfg.to_dict()
    assert d["new_row_init"] == "codebook" and "t2m_text_share" in d
    # at the defaults the new fields stay out of the key (shipped checkpoints keep theirs)
    base = HMVLMConfig.for_preset("mini", "hmvlm").to_dict()
    assert "new_row_init" not in base and "t2m_text_share" not in base


def test_first_step_weights_mark_the_first_motion_step(tiny_net):
    from reference_model.hmvlm.training import FirstStep, collate, micro_step
    from tests.hmvlm.test_fast_paths import SAMPLES, _full_logits_loss

    fs = FirstStep(tiny_net.motion.start_marker, tiny_net.motion.n_streams, 5.0)
    batch = collate(tiny_net.tokenizer, SAMPLES, 160, first_step=fs)
    w = batch["weights"]
    ids = batch["input_ids"][0].tolist()
    at = ids.index(fs.start_id) + 1
    assert w[0, at:at + fs.n_streams].eq(5.0).all()  # the t2m row: its first step, and only it
    assert int(w[0].ne(1.0).sum()) == fs.n_streams
    first = [tiny_net.vocab.new_tokens[i - tiny_net.vocab.base_vocab] for i in ids[at:at + fs.n_streams]]
    assert all(t.startswith("<m") and t.endswith("_1>") for t in first)  # code 1 of every stream
    assert w[1:].eq(1.0).all()  # general and m2t rows unweighted (m2t's motion is in its prompt)
    # weight 1: no weights tensor, the plain mean (the v1 recipes are unchanged)
    assert "weights" not in collate(tiny_net.tokenizer, SAMPLES, 160, first_step=FirstStep(fs.start_id, 5, 1.0))
    # the weighted loss is the weighted mean of per-token cross-entropies
    with torch.no_grad():
        got = micro_step(tiny_net, batch, SAMPLES, None, "cpu")["lm"]
        alpha = tiny_net.gate_weights([s.user for s in SAMPLES])
        with tiny_net.routed(alpha):
            logits = tiny_net.llm(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        tgt = batch["labels"][:, 1:]
        keep = tgt != -100
        ce = torch.nn.functional.cross_entropy(logits[:, :-1][keep].float(), tgt[keep], reduction="none")
        ref = (ce * w[:, 1:][keep]).sum() / w[:, 1:][keep].sum()
        plain = _full_logits_loss(tiny_net, batch, SAMPLES)
    assert torch.allclose(got, ref, rtol=1e-5, atol=1e-6)
    assert not torch.allclose(got, plain)


def test_default_recipe_applies_when_none_given(monkeypatch):
    import reference_model.hmvlm.config as C

    v1 = HMVLMConfig.for_preset("mini", "lora", recipe="v1")
    monkeypatch.setattr(C, "DEFAULT_RECIPE", {"mini": "learn"})
    default = HMVLMConfig.for_preset("mini", "lora")
    named = HMVLMConfig.for_preset("mini", "lora", **model_arg_overrides({"recipe": "learn"}))
    assert default == named and default.steps == RECIPES["learn"]["steps"]  # same config, same checkpoint key
    # `recipe=v1` still reaches the first shipped checkpoints' config (the preset's values)
    assert HMVLMConfig.for_preset("mini", "lora", **model_arg_overrides({"recipe": "v1"})) == v1
    assert v1.steps == 200 and v1.t2m_text_share is None and v1.new_row_init == "mean"
    assert HMVLMConfig.for_preset("tiny", "hmvlm").steps == C.PRESET_VALUES["tiny"]["steps"]  # tiny has no default


def test_whole_motion_crops_start_at_frame_zero(tmp_path, monkeypatch):
    """`motion_crop=whole`: every t2m/m2t crop is its motion from frame 0 (cut at
    max_motion_frames), and the other samples are those of `random`."""
    import reference_model.hmvlm.instruct_data as I
    from hmvlm_bench.motion.dataset import load_dataset
    from hmvlm_bench.motion.synthetic import synthesize

    root = synthesize(tmp_path / "synth", size=60, seed=0)
    motion_tok, _ = tiny_tokenizers()
    ds = load_dataset(root, split="train")
    seen: dict[str, list[np.ndarray]] = {}
    real_encode = I.encode_crops

    def spy(tok, crops, batch=32):
        seen[crop] = list(crops)
        return real_encode(tok, crops, batch)

    monkeypatch.setattr(I, "encode_crops", spy)
    mix = (("t2m", 0.5), ("m2t", 0.3), ("general", 0.2))
    data = {}
    for crop in ("random", "whole"):
        cfg = HMVLMConfig.for_preset("tiny", "hmvlm", motion_crop=crop, task_mix=mix)
        data[crop] = I.build_instruct_data(cfg, root, motion_tok, 40, {"Say hi.": "Hi!"}, None)
    l, hi = motion_tok.downsample, cfg.max_motion_frames // motion_tok.downsample
    starts = [I.normalise(it.features[:min(hi, it.length // l) * l], ds.mean, ds.std) for it in ds]

    def from_frame_zero(c: np.ndarray) -> bool:
        return any(s.shape == c.shape and np.array_equal(s, c) for s in starts)

    assert len(seen["whole"]) == len(seen["random"]) > 10
    assert all(from_frame_zero(c) for c in seen["whole"])
    assert not all(from_frame_zero(c) for c in seen["random"])
    for a, b in zip(data["random"].samples, data["whole"].samples):
        assert a.task == b.task
        if a.task == "general":
            assert a == b
    with pytest.raises(Exception, match="motion_crop"):
        HMVLMConfig.for_preset("tiny", "hmvlm", motion_crop="middle")
