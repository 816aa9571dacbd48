"""Build `data/knowledge_mc.jsonl`: 4-way multiple choice on facts and word forms.

Sources (all offline):
- Mikolov et al. 2013 word-analogy set `questions-words.txt` (gensim 4.4.0 wheel,
  `gensim/test/test_data/`): each category's (word, answer) pairs become questions,
  with the three distractors drawn from the same category's other answers.
- `HAND_WRITTEN` below: short common-sense and instruction-following items written for
  this project.

Deterministic for a given seed. Run: `python tasks/lm_eval/build_knowledge_mc.py`.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

from hmvlm_bench.assets import questions_words_path

OUT = Path(__file__).resolve().parent / "data" / "knowledge_mc.jsonl"
SEED = 1234
N_CHOICES = 4

# category in questions-words.txt -> (question template over `x`, items kept). Pairs are
# (first word, second word); capital lines read "Athens Greece", so those two ask for the
# first word given the second (SWAPPED).
SWAPPED = {"capital-common-countries", "capital-world"}
TEMPLATES: dict[str, tuple[str, int]] = {
    "capital-common-countries": ("What is the capital city of {x}?", 23),
    "capital-world": ("What is the capital city of {x}?", 50),
    "currency": ("What is the name of the currency used in {x}?", 30),
    "city-in-state": ("In which US state is the city of {x}?", 40),
    "family": ("What is the female equivalent of the word \"{x}\"?", 23),
    "gram1-adjective-to-adverb": ("What is the adverb formed from the adjective \"{x}\"?", 20),
    "gram2-opposite": ("What is the opposite of the word \"{x}\"?", 20),
    "gram3-comparative": ("What is the comparative form of the adjective \"{x}\"?", 20),
    "gram4-superlative": ("What is the superlative form of the adjective \"{x}\"?", 20),
    "gram5-present-participle": ("What is the -ing form of the verb \"{x}\"?", 20),
    "gram6-nationality-adjective": ("What is the nationality adjective for a person from {x}?", 30),
    "gram8-plural": ("What is the plural of the noun \"{x}\"?", 20),
    "gram9-plural-verbs": ("Complete with the verb \"{x}\": \"She ___ every day.\" Which form fits?", 20),
}

# (question, correct answer, three distractors)
HAND_WRITTEN: list[tuple[str, str, list[str]]] = [
    ("How many legs does a spider have?", "eight", ["six", "four", "ten"]),
    ("How many days are there in a week?", "seven", ["five", "ten", "twelve"]),
    ("What colour is the sky on a clear day?", "blue", ["green", "red", "brown"]),
    ("Which animal is known as the king of the jungle?", "the lion", ["the mouse", "the rabbit", "the snail"]),
    ("What do bees make?", "honey", ["milk", "silk", "wool"]),
    ("What is frozen water called?", "ice", ["steam", "sand", "glass"]),
    ("At what temperature in Celsius does water boil at sea level?", "100 degrees", ["0 degrees", "50 degrees", "10 degrees"]),
    ("Which planet do we live on?", "Earth", ["Mars", "Jupiter", "Venus"]),
    ("What is the largest ocean on Earth?", "the Pacific Ocean", ["the Arctic Ocean", "the Indian Ocean", "the Southern Ocean"]),
    ("Which organ pumps blood through the body?", "the heart", ["the lungs", "the liver", "the stomach"]),
    ("What do plants need from the sun to grow?", "light", ["noise", "salt", "plastic"]),
    ("How many hours are there in a day?", "24", ["12", "60", "100"]),
    ("What is 2 plus 2?", "4", ["3", "5", "22"]),
    ("What is 10 minus 3?", "7", ["13", "3", "30"]),
    ("What is 5 times 2?", "10", ["7", "25", "52"]),
    ("Which season comes after winter?", "spring", ["autumn", "summer", "winter"]),
    ("What do you use to write on paper?", "a pen", ["a spoon", "a shoe", "a plate"]),
    ("Which animal says \"moo\"?", "a cow", ["a cat", "a duck", "a snake"]),
    ("What is the opposite of hot?", "cold", ["warm", "spicy", "bright"]),
    ("Where do fish live?", "in water", ["in trees", "in deserts", "in clouds"]),
    ("What do you wear on your feet?", "shoes", ["hats", "gloves", "scarves"]),
    ("Which meal is eaten in the morning?", "breakfast", ["dinner", "supper", "midnight snack"]),
    ("What gas do humans need to breathe?", "oxygen", ["helium", "neon", "carbon monoxide"]),
    ("What is the main language spoken in France?", "French", ["Japanese", "Swahili", "Korean"]),
    ("Who wrote the play Romeo and Juliet?", "William Shakespeare", ["Charles Dickens", "Mark Twain", "Jane Austen"]),
    ("What is the chemical symbol for water?", "H2O", ["CO2", "NaCl", "O3"]),
    ("How many continents are there?", "seven", ["three", "twelve", "twenty"]),
    ("What is the fastest land animal?", "the cheetah", ["the turtle", "the snail", "the cow"]),
    ("What shape has three sides?", "a triangle", ["a square", "a circle", "a hexagon"]),
    ("Which instrument has black and white keys?", "the piano", ["the drum", "the trumpet", "the flute"]),
    ("What do you call a baby dog?", "a puppy", ["a kitten", "a calf", "a foal"]),
    ("What falls from clouds when it rains?", "water", ["sand", "oil", "milk"]),
    ("Which body part do you use to see?", "the eyes", ["the ears", "the nose", "the elbows"]),
    ("What do you need to unlock a door?", "a key", ["a fork", "a sock", "a cup"]),
    ("Which is the largest planet in the solar system?", "Jupiter", ["Mercury", "Mars", "Pluto"]),
    ("What is the freezing point of water in Celsius?", "0 degrees", ["100 degrees", "50 degrees", "37 degrees"]),
    ("Rewrite \"the cat\" in capital letters.", "THE CAT", ["the cat", "The Cat", "tHE cAT"]),
    ("Translate \"hello\" into Spanish.", "hola", ["bonjour", "ciao", "danke"]),
    ("Which word is a colour: apple, green, table or run?", "green", ["apple", "table", "run"]),
    ("Which number is the largest: 3, 17, 9 or 12?", "17", ["3", "9", "12"]),
    ("Which of these is a fruit: carrot, banana, potato or onion?", "banana", ["carrot", "potato", "onion"]),
    ("Which word rhymes with \"cat\": hat, dog, sun or cup?", "hat", ["dog", "sun", "cup"]),
    ("What is the first letter of the English alphabet?", "A", ["Z", "M", "Q"]),
    ("How many minutes are in an hour?", "60", ["100", "30", "24"]),
    ("In which direction does the sun rise?", "the east", ["the west", "the north", "the south"]),
]


def read_categories(path: Path) -> dict[str, list[tuple[str, str]]]:
    """Unique (word, answer) pairs per category, in first-seen order."""
    cats: dict[str, list[tuple[str, str]]] = {}
    current = ""
    seen: set[tuple[str, str, str]] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(":"):
            current = line[1:].strip()
            cats.setdefault(current, [])
            continue
        words = line.split()
        for pair in ((words[0], words[1]), (words[2], words[3])):
            if (current, *pair) not in seen:
                seen.add((current, *pair))
                cats[current].append(pair)
    return cats


def _item(rng: random.Random, category: str, question: str, answer: str, distractors: list[str]) -> dict:
    choices = [answer, *distractors]
    rng.shuffle(choices)
    return {"category": category, "question": question, "choices": choices, "label": choices.index(answer)}


def build(out: Path = OUT, seed: int = SEED) -> int:
    rng = random.Random(seed)
    cats = read_categories(questions_words_path())
    items: list[dict] = []
    asked: set[str] = set()
    for category, (template, n_keep) in TEMPLATES.items():
        pairs = [(b, a) for a, b in cats[category]] if category in SWAPPED else cats[category]
        # capital-world repeats capital-common-countries' pairs: ask each question once
        fresh = [(w, a) for w, a in pairs if template.format(x=w) not in asked]
        chosen = rng.sample(fresh, min(n_keep, len(fresh)))
        asked.update(template.format(x=w) for w, _ in chosen)
        for word, answer in chosen:
            pool = sorted({a for w, a in pairs if a != answer and w != word})
            items.append(_item(rng, category, template.format(x=word), answer, rng.sample(pool, N_CHOICES - 1)))
    for question, answer, distractors in HAND_WRITTEN:
        items.append(_item(rng, "hand-written", question, answer, list(distractors)))
    rng.shuffle(items)  # any `--limit` prefix then mixes all categories
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for i, item in enumerate(items):
            fh.write(json.dumps({"id": i, **item}, ensure_ascii=False) + "\n")
    return len(items)


if __name__ == "__main__":
    print(f"wrote {build()} items to {OUT}")
