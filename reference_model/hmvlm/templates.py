"""Instruction templates: chat-formatted prompts for every HMVLM task.

T2M has the paper's three variants (HMVLM sec. 4: plain text; text + given first motion
step; text + given last motion step); captioning, pose-from-image (an `<image>` placeholder
expanded to one token per patch) and general dialogue complete the mix. Several phrasings
per task; training draws one at random, evaluation picks one from the request seed.

General-dialogue prompts are built here from our own topic lists and instruction frames:
a source disjoint from the lm-eval suites in `tasks/lm_eval/` (questions-words facts, news
text, the retention prompts); `tests/hmvlm/test_templates.py` checks there is no overlap.
"""
from __future__ import annotations

import random
from typing import Any, Sequence

T2M_TEXT = (
    "Generate a human motion that matches this description: {caption}",
    "Show me how a person moves when: {caption}",
    "Create a 3D motion sequence for the text \"{caption}\".",
    "Animate a person according to: {caption}",
    "Please produce body motion tokens for: {caption}",
)
T2M_FIRST = (
    "Generate a human motion for: {caption}. It must begin with {motion}.",
    "Continue this start of a motion {motion} so that the whole motion shows: {caption}",
    "Create the motion \"{caption}\" starting from the first step {motion}.",
)
T2M_LAST = (
    "Generate a human motion for: {caption}. It must end with {motion}.",
    "Make a motion showing \"{caption}\" whose final step is {motion}.",
    "Create a motion for: {caption}. Finish on this step: {motion}",
)
M2T = (
    "Describe the following motion in one sentence: {motion}",
    "What is the person doing in this motion? {motion}",
    "Write a short caption for the movement {motion}",
    "Explain this human motion in plain words: {motion}",
)
POSE = (
    "{image}\nEstimate the 3D body pose of the person in this image.",
    "{image}\nWhat pose is the person in the picture holding? Answer with pose tokens.",
    "Look at the image {image} and give the person's 3D pose.",
)

# --- general dialogue (motion-unrelated; our own lists, see module docstring) ------------
_GENERAL_FRAMES = (
    "Give me two practical tips for {activity}.",
    "Write one friendly sentence about {thing}.",
    "What is a simple way to start {activity}?",
    "Explain in one or two sentences what {concept} means.",
    "Suggest a short, catchy name for {namable}.",
    "List three things people usually need for {activity}.",
    "Why do many people enjoy {thing}? Answer briefly.",
    "Write a short, polite reply to a friend who says: \"{message}\"",
)
_ACTIVITIES = (
    "baking bread at home", "learning to play the guitar", "keeping a houseplant alive", "planning a picnic",
    "writing a cover letter", "organizing a small bookshelf", "saving money on groceries", "learning a new language",
    "painting with watercolors", "studying for a history test", "brewing a good cup of tea", "starting a journal",
    "packing for a weekend trip", "cleaning a messy kitchen", "hosting a board game night", "growing tomatoes",
)
_THINGS = (
    "rainy afternoons", "public libraries", "fresh strawberries", "old bicycles", "mountain lakes",
    "handwritten letters", "jigsaw puzzles", "city parks", "homemade soup", "thunderstorms at night",
    "crossword puzzles", "street markets", "lighthouses", "autumn leaves",
)
_CONCEPTS = (
    "a budget", "recycling", "a metaphor", "compound interest", "a rainbow", "photosynthesis",
    "a habit", "teamwork", "a prime number", "an ecosystem", "a haiku", "procrastination",
)
_NAMABLE = (
    "a small bakery", "a pet goldfish", "a book club", "a hiking group", "a lemonade stand",
    "a robot vacuum", "a family newsletter", "a community garden",
)
_MESSAGES = (
    "I finally finished my first painting!", "I can't come to dinner tonight, sorry.",
    "Thanks for lending me your umbrella.", "My cat knocked over my coffee again.",
    "I passed my driving test today!", "Do you want to go to the museum on Sunday?",
)
_SLOTS = {"activity": _ACTIVITIES, "thing": _THINGS, "concept": _CONCEPTS, "namable": _NAMABLE,
          "message": _MESSAGES}


def general_prompts(n: int, seed: int = 0) -> list[str]:
    """`n` distinct motion-unrelated prompts (deterministic for a seed)."""
    pool: list[str] = []
    for frame in _GENERAL_FRAMES:
        slot = next(s for s in _SLOTS if "{" + s + "}" in frame)
        pool += [frame.format(**{slot: v}) for v in _SLOTS[slot]]
    rng = random.Random(seed)
    rng.shuffle(pool)
    if n > len(pool):
        raise ValueError(f"only {len(pool)} general prompts available, {n} requested")
    return pool[:n]


def all_general_prompts() -> list[str]:
    return general_prompts(n=sum(len(_SLOTS[next(s for s in _SLOTS if "{" + s + "}" in f)]) for f in _GENERAL_FRAMES))


def pick(options: Sequence[str], key: int) -> str:
    return options[key % len(options)]


def t2m_prompt(caption: str, variant: str, key: int, motion: str = "") -> str:
    caption = caption.strip().rstrip(".")
    if variant == "text":
        return pick(T2M_TEXT, key).format(caption=caption)
    if variant == "first_token":
        return pick(T2M_FIRST, key).format(caption=caption, motion=motion)
    if variant == "last_token":
        return pick(T2M_LAST, key).format(caption=caption, motion=motion)
    raise ValueError(f"unknown t2m variant {variant!r}")


def m2t_prompt(motion: str, key: int) -> str:
    return pick(M2T, key).format(motion=motion)


def pose_prompt(image_tokens: str, key: int) -> str:
    return pick(POSE, key).format(image=image_tokens)


# --- chat formatting -----------------------------------------------------------------------
def chat_prompt(tokenizer: Any, user: str) -> str:
    """The model input up to the start of the assistant's answer."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template([{"role": "user", "content": user}], tokenize=False,
                                             add_generation_prompt=True)
    return f"USER: {user} ASSISTANT:"  # Vicuna v1.1 style for template-less checkpoints


def chat_answer_suffix(tokenizer: Any, user: str, answer: str) -> str:
    """The text that follows `chat_prompt(...)` for a full turn: answer + end of turn."""
    if getattr(tokenizer, "chat_template", None):
        prompt = chat_prompt(tokenizer, user)
        full = tokenizer.apply_chat_template([{"role": "user", "content": user},
                                              {"role": "assistant", "content": answer}], tokenize=False)
        if not full.startswith(prompt):
            raise ValueError("the chat template renders the prompt differently with an answer")
        return full[len(prompt):]
    return f" {answer}{tokenizer.eos_token or ''}"


def end_of_turn(tokenizer: Any) -> str:
    """The end-of-turn string of the chat template (stop string for free text)."""
    if getattr(tokenizer, "chat_template", None):
        return chat_answer_suffix(tokenizer, "x", "ANSWER").split("ANSWER", 1)[1].strip() or (tokenizer.eos_token or "")
    return tokenizer.eos_token or ""


__all__ = ["M2T", "POSE", "T2M_FIRST", "T2M_LAST", "T2M_TEXT", "all_general_prompts", "chat_answer_suffix",
           "chat_prompt", "end_of_turn", "general_prompts", "m2t_prompt", "pose_prompt", "t2m_prompt"]
