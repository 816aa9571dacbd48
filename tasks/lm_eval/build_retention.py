"""Build `data/retention.jsonl`: general prompts with the base model's own greedy answers.

Prompts: `HAND_WRITTEN` (facts, instructions, short explanations, written for this
project) plus templated questions over `questions-words.txt` (gensim 4.4.0 wheel).
Each prompt is rendered with the base model's chat template; the reference is the base
model's greedy answer (48 new tokens max), produced through the same
`HmvlmLM.generate` path that `hmvlm_retention` scores with, so the base model scores
1.0 by construction (up to float near-ties between batch compositions). References
depend on the base model: each row records its fingerprint. A different base LLM needs
new references: `python tasks/lm_eval/build_retention.py --preset mini [--out PATH]`.
"""
from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "data" / "retention.jsonl"
SEED = 4321
MAX_NEW_TOKENS = 48  # keep equal to hmvlm_retention.yaml generation_kwargs.max_gen_toks
STOP = "<|im_end|>"

HAND_WRITTEN: list[str] = [
    # facts
    "What is the capital of France?",
    "Who painted the Mona Lisa?",
    "How many planets are in the solar system?",
    "What is the boiling point of water in Celsius?",
    "Who was the first person to walk on the Moon?",
    "What is the largest mammal on Earth?",
    "What is photosynthesis?",
    "What is the speed of light?",
    "Which gas do plants absorb from the air?",
    "What is the longest river in the world?",
    "How many bones are in the adult human body?",
    "What language is spoken in Brazil?",
    "Who invented the telephone?",
    "What is the chemical symbol for gold?",
    "What is the tallest mountain in the world?",
    "What year did World War II end?",
    "What is DNA?",
    "What does a thermometer measure?",
    "What is the main ingredient in bread?",
    "Why is the sky blue?",
    # explanations
    "Explain what gravity is in one sentence.",
    "Explain how a rainbow forms.",
    "What is the difference between weather and climate?",
    "Why do we have seasons?",
    "How does a refrigerator keep food cold?",
    "What is a computer program?",
    "Explain what an atom is to a child.",
    "Why do leaves change colour in autumn?",
    "What causes thunder?",
    "How do vaccines work?",
    "What is the purpose of sleep?",
    "What is inflation in economics?",
    "Explain what the internet is.",
    "Why is exercise good for health?",
    "What is a democracy?",
    "How do birds fly?",
    "What is machine learning?",
    "Why does ice float on water?",
    "What is recycling and why is it useful?",
    "How does the heart work?",
    # instructions and writing
    "Write a haiku about the ocean.",
    "Give me three tips for studying better.",
    "Write a short greeting for a birthday card.",
    "List three fruits that are red.",
    "Suggest a name for a pet cat.",
    "Write one sentence describing a sunny day.",
    "Give me a synonym for the word happy.",
    "Translate 'good morning' into French.",
    "Write a short motivational quote.",
    "List the days of the week.",
    "Give two examples of renewable energy.",
    "Write a title for a story about a lost dog.",
    "Describe a cup of coffee in one sentence.",
    "Give me a simple recipe for a sandwich.",
    "Write a polite email opening line.",
    "Summarise the story of Cinderella in two sentences.",
    "What should I pack for a day at the beach?",
    "Give me a fun fact about elephants.",
    "How do I make a cup of tea?",
    "Write a short poem about the moon.",
    # reasoning and arithmetic
    "What is 12 plus 7?",
    "If I have 3 apples and eat one, how many are left?",
    "What is half of 50?",
    "Which is heavier, a kilogram of feathers or a kilogram of iron?",
    "What comes next: 2, 4, 6, 8?",
    "How many minutes are in two hours?",
    "Is 17 a prime number?",
    "What is 9 times 9?",
    "If today is Monday, what day is tomorrow?",
    "Sort these numbers from smallest to largest: 5, 2, 9, 1.",
    # human motion (the domain of the tuned models; still general language)
    "Describe how a person walks.",
    "What muscles are used when running?",
    "Give three stretching exercises for the legs.",
    "How do you do a jumping jack?",
    "Describe a person waving hello.",
]

# (questions-words.txt category, template over the pair, n prompts)
TEMPLATED: list[tuple[str, str, int]] = [
    ("capital-world", "Tell me one fact about {b}.", 12),
    ("capital-common-countries", "What is the capital of {b}?", 8),
    ("currency", "What currency is used in {a}?", 6),
    ("city-in-state", "Where is {a} located?", 6),
    ("gram6-nationality-adjective", "Describe the culture of {a} in one sentence.", 6),
]


def build_prompts(seed: int = SEED) -> list[dict[str, Any]]:
    from hmvlm_bench.assets import questions_words_path

    rng = random.Random(seed)
    pairs: dict[str, list[tuple[str, str]]] = {}
    current = ""
    for line in questions_words_path().read_text(encoding="utf-8").splitlines():
        if line.startswith(":"):
            current = line[1:].strip()
            continue
        w = line.split()
        for pair in ((w[0], w[1]), (w[2], w[3])):
            if pair not in pairs.setdefault(current, []):
                pairs[current].append(pair)
    prompts = [{"source": "hand-written", "prompt": p} for p in HAND_WRITTEN]
    for category, template, n in TEMPLATED:
        for a, b in rng.sample(pairs[category], n):
            prompts.append({"source": f"questions-words:{category}", "prompt": template.format(a=a, b=b)})
    rng.shuffle(prompts)  # any `--limit` prefix mixes all kinds
    return prompts


def build(out: Path = OUT, preset: str = "mini", seed: int = SEED, batch_size: int = 8) -> int:
    from hmvlm_bench.lm_eval_adapter import HmvlmLM, build_lm_backend

    backend = build_lm_backend({"model": "base", "preset": preset})
    lm = HmvlmLM(backend=backend, batch_size=batch_size)
    prompts = build_prompts(seed)
    inputs = [
        backend.tokenizer.apply_chat_template(
            [{"role": "user", "content": p["prompt"]}], tokenize=False, add_generation_prompt=True
        )
        for p in prompts
    ]
    answers = lm.generate(inputs, until=[STOP], max_new_tokens=MAX_NEW_TOKENS)
    fingerprint = getattr(backend, "fingerprint", "")
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for i, (p, text, answer) in enumerate(zip(prompts, inputs, answers)):
            row = {"id": i, **p, "input": text, "reference": answer,
                   "reference_model": fingerprint, "max_new_tokens": MAX_NEW_TOKENS}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return len(prompts)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="mini", choices=["tiny", "mini"])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch default); 1 on a busy CPU")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    print(f"wrote {build(args.out, args.preset, batch_size=args.batch_size)} prompts to {args.out}")
