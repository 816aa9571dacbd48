"""The `guo` protocol (HumanML3D/KIT): crops, caption re-draws, MultiModality lengths and
TM2T/MotionGPT m2t references, checked against transcriptions of the published procedure."""
from __future__ import annotations

import math
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from hmvlm_bench.artifacts import ArtifactStore
from hmvlm_bench.context import DataCatalog, TaskContext
from hmvlm_bench.presets import get_preset
from tasks import protocols as P
from tasks.m2t import M2TTask
from tasks.t2m import T2MTask
from tests.tasks.conftest import FakeModel, StubEvaluator, view
from tests.tasks.hml_fixture import CAPTIONS, make_guo_evaluator, make_humanml3d


def hml_ctx(root: Path, tmp: Path, evaluator=None, evaluator_dir: Path | None = None) -> TaskContext:
    p = get_preset("tiny")
    arts = ArtifactStore(tmp / "cache")
    ctx = TaskContext(preset=p, data=DataCatalog(p, arts, {"humanml3d": root}), artifacts=arts,
                      dataset="humanml3d", progress=False,
                      evaluator_paths={"humanml3d": evaluator_dir} if evaluator_dir else {})
    if evaluator is not None:
        ctx._cache[("evaluator", "humanml3d")] = evaluator
    return ctx


@pytest.fixture(scope="module")
def hml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_humanml3d(tmp_path_factory.mktemp("hml"))


@pytest.fixture(scope="module")
def guo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_guo_evaluator(tmp_path_factory.mktemp("guo_ev"))


# ----------------------------------------------------------------- pure protocol pieces


def test_crop_is_the_reference_rule() -> None:
    """text-to-motion data/dataset.py: multiple of unit_length 4; one unit shorter with
    probability 1/3 ('single', 'single', 'double'); any offset that fits."""
    seen: Counter = Counter()
    starts: dict[int, set[int]] = {40: set(), 36: set()}
    for s in range(3000):
        a, n = P.guo_crop(43, random.Random(s))
        seen[n] += 1
        starts[n].add(a)
    assert set(seen) == {40, 36}
    assert abs(seen[36] / 3000 - 1 / 3) < 0.03
    assert starts[40] == set(range(0, 4)) and starts[36] == set(range(0, 8))
    assert P.guo_crop(44, random.Random(0))[1] in (44, 40)


def test_references_are_first_three_lemmatised_padded() -> None:
    one = [("a/DET", "person/NOUN", "walk/VERB")]
    assert P.guo_references(one) == ["a person walk"] * 3
    two = [("a/DET", "man/NOUN"), ("someone/PRON",)]
    assert P.guo_references(two) == ["a man", "someone", "a man"]
    four = [("w1/X",), ("w2/X",), ("w3/X",), ("w4/X",)]
    assert P.guo_references(four) == ["w1", "w2", "w3"]
    assert P.default_protocol("humanml3d") == P.default_protocol("kit") == "guo"
    assert P.default_protocol("synthetic") == "bench"


# ------------------------------------------------ m2t: transcription of the published procedure


def _ngram_counts(words: list[str], n_max: int) -> Counter:
    return Counter(tuple(words[i:i + n]) for n in range(1, n_max + 1) for i in range(len(words) - n + 1))


def transcribed_bleu(preds: list[str], refs: list[list[str]], order: int = 4) -> float:
    """nlg-metricverse bleu (tensorflow/nmt compute_bleu) after its normalisation
    (punctuation -> space, lower case), as MotionGPT calls it."""
    import string

    norm = lambda t: t.translate(str.maketrans({c: " " for c in string.punctuation})).lower().split()  # noqa: E731
    match, poss, hyp_len, ref_len = [0] * order, [0] * order, 0, 0
    for p, rs in zip(preds, refs):
        h, rr = norm(p), [norm(r) for r in rs]
        hyp_len += len(h)
        ref_len += min(len(r) for r in rr)
        best: Counter = Counter()
        for r in rr:
            for g, c in _ngram_counts(r, order).items():
                best[g] = max(best[g], c)
        for g, c in _ngram_counts(h, order).items():
            match[len(g) - 1] += min(c, best[g])
        for n in range(1, order + 1):
            poss[n - 1] += max(0, len(h) - n + 1)
    prec = [m / p if p else 0.0 for m, p in zip(match, poss)]
    if min(prec) == 0:
        return 0.0
    bp = 1.0 if hyp_len > ref_len else math.exp(1 - ref_len / hyp_len)
    return math.exp(sum(math.log(x) for x in prec) / order) * bp


def transcribed_cider(preds: list[str], refs: list[list[str]], n_max: int = 4, sigma: float = 6.0) -> float:
    """nlg-metricverse cider_planet.py (vrama91 CIDEr-D): whitespace split, document
    frequency over items' reference sets, clipped tf-idf cosine per n, Gaussian penalty
    on the bigram-count difference, mean over n, mean over references, x10."""
    crefs = [[_ngram_counts(r.split(), n_max) for r in rs] for rs in refs]
    ctest = [_ngram_counts(p.split(), n_max) for p in preds]
    df: Counter = Counter()
    for rs in crefs:
        for g in {g for r in rs for g in r}:
            df[g] += 1
    log_n = np.log(float(len(crefs)))

    def vec(c: Counter):
        v = [dict() for _ in range(n_max)]
        norm = [0.0] * n_max
        length = 0
        for g, tf in c.items():
            k = len(g) - 1
            v[k][g] = tf * (log_n - np.log(max(1.0, df[g])))
            norm[k] += v[k][g] ** 2
            if k == 1:
                length += tf
        return v, [math.sqrt(x) for x in norm], length

    scores = []
    for t, rs in zip(ctest, crefs):
        vt, nt, lt = vec(t)
        total = np.zeros(n_max)
        for r in rs:
            vr, nr, lr = vec(r)
            for k in range(n_max):
                val = sum(min(w, vr[k].get(g, 0.0)) * vr[k].get(g, 0.0) for g, w in vt[k].items())
                if nt[k] and nr[k]:
                    val /= nt[k] * nr[k]
                total[k] += val * math.exp(-((lt - lr) ** 2) / (2 * sigma ** 2))
        scores.append(10.0 * total.mean() / len(rs))
    return float(np.mean(scores))


def _answers(request) -> str:
    group = int(request.sample_id) % len(CAPTIONS)
    return ["A person walk forward.", "a man jump high", "a person wave his hand", "Someone runs"][group]


def test_m2t_guo_bleu4_and_cider_equal_the_published_procedure(tmp_path: Path) -> None:
    """Hand-made case: clip 0 has one caption, clip 1 two. References are the lemmatised
    token strings, first 3, padded: ["a person walk forward"] x 3 and
    ["someone jump up high", "a man jump", "someone jump up high"].
    BLEU@4 by hand: 1-4-gram matches 8/8, 5/6, 3/4, 1/2; hypothesis 8 words, shortest
    references 4 + 3 = 7 (no brevity penalty) -> (1 * 5/6 * 3/4 * 1/2) ** (1/4) = 0.74767."""
    root = make_humanml3d(tmp_path / "two", n_clips=2)
    ctx = hml_ctx(root, tmp_path, StubEvaluator())
    res = M2TTask({"bertscore": False, "replications": 2}).evaluate(view(FakeModel(caption=_answers)), ctx)
    assert res.extra["eval_protocol"] == "guo"
    refs = [["a person walk forward"] * 3, ["someone jump up high", "a man jump", "someone jump up high"]]
    assert [s["references"] for s in res.samples] == refs
    preds = ["A person walk forward.", "a man jump high"]
    assert res.metrics["bleu4"].value == pytest.approx(100 * 0.3125 ** 0.25, abs=1e-9)
    assert res.metrics["bleu4"].value == pytest.approx(100 * transcribed_bleu(preds, refs), abs=1e-9)
    assert res.metrics["bleu1"].value == pytest.approx(100 * transcribed_bleu(preds, refs, 1), abs=1e-9)
    cider = transcribed_cider(preds, refs)
    assert res.metrics["cider"].value == pytest.approx(100 * cider, abs=1e-9)
    # CIDEr keeps case and punctuation: "A" and "forward." match nothing in clip 0's references
    assert cider < transcribed_cider(["a person walk forward", "a man jump high"], refs)
    # the bench protocol scores the same captions against the raw captions: other numbers
    bench = M2TTask({"bertscore": False, "replications": 2, "protocol": "bench"}).evaluate(
        view(FakeModel(caption=_answers)), ctx)
    assert bench.metrics["bleu4"].value < res.metrics["bleu4"].value
    assert bench.extra["eval_protocol"] == "bench"


def test_m2t_guo_captions_the_reference_crop(hml: Path, tmp_path: Path) -> None:
    seen = []

    def rec(r):
        seen.append(r)
        return "a person walks"

    ctx = hml_ctx(hml, tmp_path, StubEvaluator())
    res = M2TTask({"bertscore": False, "replications": 2}).evaluate(view(FakeModel(caption=rec)), ctx)
    ds = ctx.data.get("humanml3d")
    full = {s.id: s.features for s in ds}
    for r, smp in zip(seen, res.samples):
        a, n = smp["crop"]
        assert n % 4 == 0 and n in (len(full[r.sample_id]) // 4 * 4, len(full[r.sample_id]) // 4 * 4 - 4)
        np.testing.assert_array_equal(r.features, full[r.sample_id][a:a + n])
    assert all(len(s["references"]) == 3 for s in res.samples)
    assert "fourth" not in " ".join(" ".join(s["references"]) for s in res.samples)


# --------------------------------------------------------------------------- t2m


def test_t2m_guo_redraws_caption_and_crop_every_replication(hml: Path, tmp_path: Path) -> None:
    reqs = []

    def gen(r):
        reqs.append(r)
        return np.asarray(r.target) if r.target is not None else np.zeros((r.length, 263))

    ctx = hml_ctx(hml, tmp_path, StubEvaluator())
    task = T2MTask({"replications": 3})
    cfg = task.config(ctx)
    assert cfg["protocol"] == "guo" and cfg["regenerate"] is True
    res = task.evaluate(view(FakeModel(motion=gen)), ctx)
    n_items = len(res.samples)
    assert len(reqs) == 3 * n_items  # one generation per item per replication
    assert res.extra["eval_protocol"] == "guo"
    by_item: dict[str, list] = {}
    for r in reqs:
        by_item.setdefault(r.sample_id, []).append(r)
        assert r.length % 4 == 0
    texts_vary = [len({r.text for r in rs}) > 1 for rs in by_item.values()]
    lengths_vary = [len({r.length for r in rs}) > 1 for rs in by_item.values()]
    assert any(texts_vary) and any(lengths_vary)
    # the same draws come back with the same seed (no dependence on order or batching)
    reqs2 = []
    T2MTask({"replications": 3}).evaluate(view(FakeModel(motion=lambda r: reqs2.append(r) or np.zeros((r.length, 263)))), ctx)
    assert sorted((r.sample_id, r.text, r.length) for r in reqs) == sorted((r.sample_id, r.text, r.length) for r in reqs2)


def test_t2m_guo_oracle_matches_its_crops(hml: Path, tmp_path: Path) -> None:
    ctx = hml_ctx(hml, tmp_path, StubEvaluator())
    res = T2MTask({"replications": 2}).evaluate(view(FakeModel(oracle=True)), ctx)
    assert res.metrics["fid"].value < 1e-6  # generations = that replication's crops
    assert res.metrics["failure_rate"].value == 0.0 and res.extra["length_mismatch"] == 0


def test_bench_config_is_unchanged_on_synthetic(ctx) -> None:
    """Results computed before named protocols keep their hash: no `protocol` key."""
    cfg = T2MTask({}).config(ctx)
    assert "protocol" not in cfg and "mm_length" not in cfg
    assert "protocol" not in M2TTask({}).config(ctx)
    assert T2MTask({"protocol": "guo"}).config(ctx)["protocol"] == "guo"


def test_t2m_guo_multimodality_samples_a_length_per_repeat(hml: Path, guo_dir: Path, tmp_path: Path) -> None:
    lengths = []

    def gen(r):
        lengths.append(r.length)
        return np.zeros((r.length, 263)) + 0.01 * len(lengths)

    ctx = hml_ctx(hml, tmp_path, evaluator_dir=guo_dir)
    task = T2MTask({"replications": 2, "multimodality": True, "mm_texts": 2, "mm_generations": 4, "mm_pairs": 2})
    assert task.preflight(ctx) == []
    res = task.evaluate(view(FakeModel(motion=gen)), ctx)
    mm = lengths[-2 * 2 * 4:]  # 2 replications x 2 texts x 4 repeats, after the main generations
    assert all(n % 4 == 0 and n >= 4 for n in mm) and len(set(mm)) > 1
    assert res.extra["mm_length"].startswith("Guo et al. length estimator")
    assert res.metrics["multimodality"].n == 2
    gt = T2MTask({"replications": 1, "multimodality": True, "mm_texts": 2, "mm_generations": 3, "mm_pairs": 2,
                  "mm_length": "gt"})
    lengths.clear()
    gt.evaluate(view(FakeModel(motion=gen)), ctx)
    assert len(set(lengths[-3:])) == 1  # one text: the crop length for every repeat


def test_t2m_guo_multimodality_without_estimator_fails_in_preflight(hml: Path, tmp_path: Path) -> None:
    ev_dir = make_guo_evaluator(tmp_path / "ev", length_estimator=False)
    ctx = hml_ctx(hml, tmp_path, evaluator_dir=ev_dir)
    problems = T2MTask({"multimodality": True}).preflight(ctx)
    assert len(problems) == 1 and "mm_length=gt" in problems[0]
    assert T2MTask({"multimodality": True, "mm_length": "gt"}).preflight(ctx) == []


# ------------------------------------------------ m2t with the official evaluator layout


def test_m2t_with_official_evaluator_tags_generated_captions(hml: Path, guo_dir: Path, tmp_path: Path) -> None:
    """Random-weights Guo evaluator in the official layout: generated captions carry no
    tokens, the evaluator POS-tags them (spaCy) and the task completes."""
    ctx = hml_ctx(hml, tmp_path, evaluator_dir=guo_dir)
    task = M2TTask({"bertscore": False, "replications": 2})
    assert task.preflight(ctx) == []
    res = task.evaluate(view(FakeModel(caption=_answers)), ctx)
    assert res.evaluator["name"] == "guo-t2m" and res.extra["eval_protocol"] == "guo"
    assert 0.0 <= res.metrics["r_precision_top3"].value <= 1.0 and res.metrics["mm_dist"].value > 0


def test_m2t_official_evaluator_without_tagger_fails_in_preflight(hml: Path, guo_dir: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from hmvlm_bench.cli.main import main
    from hmvlm_bench.evaluators import tagging

    monkeypatch.setattr(tagging, "tagger_problem", lambda: "spaCy is not installed (pip install spacy)")
    ctx = hml_ctx(hml, tmp_path, evaluator_dir=guo_dir)
    assert M2TTask({}).preflight(ctx) == [
        "POS tagger for generated captions (Guo et al. evaluator): spaCy is not installed (pip install spacy)"]
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        main(["run", "--preset", "paper", "--device", "cpu", "--tasks", "m2t", "--models", "ground-truth",
              "--data", f"humanml3d={hml}", "--evaluator", f"humanml3d={guo_dir}", "--output-dir", str(out),
              "--cache-dir", str(tmp_path / "cache"), "--no-progress"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "POS tagger" in err
    assert not (out / "ground-truth" / "m2t.json").exists()


@pytest.mark.slow
def test_paper_preset_m2t_completes_with_official_evaluator_layout(hml: Path, guo_dir: Path, tmp_path: Path) -> None:
    """Acceptance: `hmvlm-bench run --preset paper --tasks m2t` with a Guo-layout folder."""
    import json

    from hmvlm_bench.cli.main import main

    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        main(["run", "--preset", "paper", "--device", "cpu", "--tasks", "m2t", "--models", "ground-truth,random",
              "--data", f"humanml3d={hml}", "--evaluator", f"humanml3d={guo_dir}", "--output-dir", str(out),
              "--cache-dir", str(tmp_path / "cache"), "--no-progress"])
    assert exc.value.code == 0
    for model in ("ground-truth", "random"):
        res = json.loads((out / model / "m2t.json").read_text())
        assert res["extra"]["eval_protocol"] == "guo" and res["evaluator"]["name"] == "guo-t2m"
        assert res["config"]["task"]["protocol"] == "guo"
