"""Build `data/news_ppl.jsonl` from the Lee news corpus shipped in the gensim wheel.

Source: gensim 4.4.0 `gensim/test/test_data/lee_background.cor` (Lee, Pincombe & Welsh
2005 background corpus: 300 Australian news articles, one per line; gensim is LGPL-2.1,
the derived JSONL keeps the words, with whitespace runs collapsed). Run: `python tasks/lm_eval/build_news_ppl.py`.
"""
from __future__ import annotations

import json
from pathlib import Path

from hmvlm_bench.assets import lee_background_path

OUT = Path(__file__).resolve().parent / "data" / "news_ppl.jsonl"


def build(out: Path = OUT) -> int:
    lines = lee_background_path().read_text(encoding="utf-8").splitlines()
    docs = [" ".join(line.split()) for line in lines if line.strip()]
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for i, text in enumerate(docs):
            fh.write(json.dumps({"doc_id": i, "text": text}, ensure_ascii=False) + "\n")
    return len(docs)


if __name__ == "__main__":
    print(f"wrote {build()} documents to {OUT}")
