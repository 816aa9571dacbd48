"""How much of general text's loss goes to the new motion/pose token rows? (issue 14 diagnostic)

NLL per token of the first 16 news documents of the forgetting suite (first 256 tokens each,
the gate fed by the document) under the full extended softmax vs the softmax over the text
rows only, and the mean probability the model puts on the new rows. A gap means forgetting
is partly the vocabulary extension, not the adapter.

    python scripts/diagnose_vocab_mass.py CHECKPOINT_DIR [N_DOCS]
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

NEWS = Path(__file__).resolve().parents[1] / "tasks" / "lm_eval" / "data" / "news_ppl.jsonl"


def main(ckpt: str, n_docs: int = 16) -> None:
    from reference_model.hmvlm.network import load_network

    net = load_network(Path(ckpt)).eval()
    docs = [json.loads(line)["text"] for line in NEWS.read_text(encoding="utf-8").splitlines()][:n_docs]
    v_text = net.vocab.base_vocab
    full, text, mass = [], [], []
    for doc in docs:
        ids = torch.tensor([net.tokenizer(doc, add_special_tokens=False)["input_ids"][:256]])
        with torch.no_grad(), net.routed(net.gate_weights([doc[:300]])):
            logits = net.llm(input_ids=ids).logits[0, :-1].float()
        target = ids[0, 1:]
        full.append(F.cross_entropy(logits, target).item())
        text.append(F.cross_entropy(logits[:, :v_text], target).item())
        mass.append(logits.softmax(-1)[:, v_text:].sum(-1).mean().item())
    n = len(docs)
    print(f"{ckpt}: news NLL/token full vocab {sum(full) / n:.3f}, text rows only {sum(text) / n:.3f}, "
          f"mean probability on new rows {sum(mass) / n:.3f}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 16)
