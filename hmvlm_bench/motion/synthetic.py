"""The embedded default dataset: procedural text-motion pairs on the HumanML3D skeleton.

Each motion composes per-part actions (legs, each arm or both arms, torso, root path),
poses the skeleton with local joint rotations + FK (bones keep their length), puts the
lowest joint of every frame on the floor, and converts to 263-d features with
`features.py`. Three captions per motion vary subject, synonyms and word order. Written in
the HumanML3D layout (see `dataset.py`) plus `synthetic.json` (manifest) and
`labels.json` (the actions of every id). Same seed -> byte-identical files.

Splits: train/val/test (80/5/15, HumanML3D's proportions) and `test_compositional`:
every motion combining a held-out (leg action, arm action) pair goes there, so those
pairs never occur in train/val/test while each action alone does.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from hmvlm_bench.errors import UserError
from hmvlm_bench.motion.features import features_to_joints, joints_to_features
from hmvlm_bench.motion.kinematics import euler_to_matrix, fk
from hmvlm_bench.motion.skeleton import FEATURE_DIM, FPS, N_JOINTS, RIC, ROT6D, LOCAL_VEL

GENERATOR_VERSION = 1

LEG_ACTIONS = ("stand", "walk_forward", "walk_backward", "run", "jump", "squat", "kick", "sidestep")
ARM_ACTIONS = ("rest", "wave", "raise", "punch", "circle")  # per arm; "clap" uses both
TORSO_ACTIONS = ("upright", "bend", "twist", "lean")
PATHS = ("straight", "turn_left", "turn_right")
LOCOMOTION = ("walk_forward", "walk_backward", "run")  # legs that may follow a curved path
# (leg, arm) pairs kept out of train/val/test (arm on either side, or clap).
HELD_OUT_PAIRS: tuple[tuple[str, str], ...] = (
    ("run", "wave"), ("jump", "punch"), ("squat", "circle"), ("kick", "clap"), ("walk_backward", "raise"),
)
SPLIT_FRACTIONS = (("train", 0.80), ("val", 0.05), ("test", 0.15))
MIN_FRAMES, MAX_FRAMES = 40, 196  # feature frames (2 to 9.8 s at 20 fps)

# joints
_L_HIP, _R_HIP, _L_KNEE, _R_KNEE, _L_ANKLE, _R_ANKLE = 1, 2, 4, 5, 7, 8
_SPINE = (3, 6, 9)
_NECK, _HEAD = 12, 15
_SHOULDER = {"left": 16, "right": 17}
_ELBOW = {"left": 18, "right": 19}
_SIGN = {"left": 1.0, "right": -1.0}  # +X is the body's left


@dataclass(frozen=True)
class MotionLabel:
    """The composition of one synthetic motion."""

    legs: str
    arm_left: str
    arm_right: str  # "clap" on both arms for the two-arm action
    torso: str
    path: str
    side: str  # kicking leg / sidestep direction / lean direction: "left" | "right"
    speed: float
    amplitude: float
    frames: int  # feature frames

    def arm_actions(self) -> set[str]:
        return {self.arm_left, self.arm_right} - {"rest"}

    def held_out(self) -> bool:
        return any(self.legs == leg and arm in self.arm_actions() for leg, arm in HELD_OUT_PAIRS)


def sample_label(rng: np.random.Generator) -> MotionLabel:
    legs = LEG_ACTIONS[rng.integers(len(LEG_ACTIONS))]
    if rng.random() < 0.1:
        arm_l = arm_r = "clap"
    else:
        def one() -> str:
            return "rest" if rng.random() < 0.45 else ARM_ACTIONS[1 + rng.integers(len(ARM_ACTIONS) - 1)]

        arm_r = one()
        arm_l = arm_r if rng.random() < 0.15 else one()
    torso = "upright" if rng.random() < 0.55 else TORSO_ACTIONS[1 + rng.integers(3)]
    if legs in ("squat", "jump") and torso == "lean":  # keeps the pose plausible
        torso = "upright"
    path = PATHS[rng.integers(3)] if legs in LOCOMOTION and rng.random() < 0.6 else "straight"
    return MotionLabel(
        legs=legs, arm_left=arm_l, arm_right=arm_r, torso=torso, path=path,
        side=("left", "right")[rng.integers(2)],
        speed=round(float(rng.uniform(0.75, 1.3)), 3),
        amplitude=round(float(rng.uniform(0.8, 1.2)), 3),
        frames=int(rng.integers(MIN_FRAMES, MAX_FRAMES + 1)),
    )


# ------------------------------------------------------------------------------ motion


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _pose(lab: MotionLabel, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Joint Euler angles (T, 22, 3) (x, y, z radians; R = Ry Rz Rx), body-frame root
    velocity (T, 2) (lateral x, forward z; m/s), extra root height (T,), heading (T,)."""
    n = lab.frames + 1  # features drop one frame
    t = np.arange(n) / FPS
    sp, am = lab.speed, lab.amplitude
    e = np.zeros((n, N_JOINTS, 3))
    vel = np.zeros((n, 2))
    lift = np.zeros(n)
    s_side = _SIGN[lab.side]
    arm_swing = np.zeros(n)  # natural arm swing of locomotion, used by resting arms
    ph0 = rng.uniform(0, 2 * np.pi)

    if lab.legs == "stand":
        e[:, (_L_KNEE, _R_KNEE), 0] = 0.05
    elif lab.legs in ("walk_forward", "walk_backward", "run"):
        run = lab.legs == "run"
        f = (1.4 if run else 0.9) * sp
        phi = 2 * np.pi * f * t + ph0
        if lab.legs == "walk_backward":
            phi = -phi
        a = (0.7 if run else 0.42) * am
        k = 1.3 if run else 0.65
        s, c = np.sin(phi), np.cos(phi)
        e[:, _L_HIP, 0], e[:, _R_HIP, 0] = -a * s, a * s
        e[:, _L_KNEE, 0] = 0.1 + k * np.maximum(0, c if lab.legs != "walk_backward" else -c)
        e[:, _R_KNEE, 0] = 0.1 + k * np.maximum(0, -c if lab.legs != "walk_backward" else c)
        e[:, _L_ANKLE, 0], e[:, _R_ANKLE, 0] = 0.15 * s, -0.15 * s
        v = (3.0 if run else 1.25) * sp * am
        vel[:, 1] = -0.55 * v if lab.legs == "walk_backward" else v
        if run:
            lift = 0.06 * am * np.abs(np.sin(phi))
            e[:, _SPINE, 0] += 0.06
            for side in ("left", "right"):
                e[:, _ELBOW[side], 0] = -1.4
        arm_swing = (0.6 if run else 0.3) * a * s
    elif lab.legs == "jump":
        period = 1.1 / sp
        u = ((t + rng.uniform(0, period)) % period) / period
        crouch = np.where(u < 0.35, np.sin(np.pi * u / 0.35), 0.0) + np.where(
            u > 0.75, 0.5 * np.sin(np.pi * (u - 0.75) / 0.25), 0.0)
        flight = np.where((u >= 0.35) & (u <= 0.75), np.sin(np.pi * (u - 0.35) / 0.4), 0.0)
        e[:, (_L_HIP, _R_HIP), 0] = -0.9 * am * crouch[:, None]
        e[:, (_L_KNEE, _R_KNEE), 0] = 1.5 * am * crouch[:, None]
        e[:, (_L_ANKLE, _R_ANKLE), 0] = -0.5 * am * crouch[:, None] + 0.4 * flight[:, None]
        e[:, _SPINE, 0] += 0.15 * crouch[:, None]
        lift = 0.35 * am * flight
        arm_swing = 0.6 * crouch - 1.2 * flight
    elif lab.legs == "squat":
        period = 2.4 / sp
        d = am * 0.5 * (1 - np.cos(2 * np.pi * t / period + ph0 * 0.2))
        e[:, (_L_HIP, _R_HIP), 0] = -1.4 * d[:, None]
        e[:, (_L_KNEE, _R_KNEE), 0] = 2.0 * d[:, None]
        e[:, (_L_ANKLE, _R_ANKLE), 0] = -0.6 * d[:, None]
        e[:, _SPINE[0], 0] += 0.4 * d
        arm_swing = -0.9 * d
    elif lab.legs == "kick":
        period = 1.5 / sp
        u = ((t + rng.uniform(0, period)) % period) / period
        kick = np.where(u < 0.5, np.sin(2 * np.pi * u) ** 2, 0.0)
        chamber = np.where(u < 0.25, np.sin(4 * np.pi * u), 0.0)
        hip, knee = (_L_HIP, _L_KNEE) if lab.side == "left" else (_R_HIP, _R_KNEE)
        other_knee = _R_KNEE if lab.side == "left" else _L_KNEE
        e[:, hip, 0] = -1.4 * am * kick
        e[:, knee, 0] = 1.2 * chamber
        e[:, other_knee, 0] = 0.15
        e[:, _SPINE, 0] -= 0.08 * kick[:, None]
    elif lab.legs == "sidestep":
        f = 0.8 * sp
        phi = 2 * np.pi * f * t + ph0
        lead, trail = (_L_HIP, _R_HIP) if lab.side == "left" else (_R_HIP, _L_HIP)
        e[:, lead, 2] = s_side * 0.3 * am * np.maximum(0, np.sin(phi))
        e[:, trail, 2] = -s_side * 0.15 * am * np.maximum(0, -np.sin(phi))
        e[:, (_L_KNEE, _R_KNEE), 0] = 0.15
        vel[:, 0] = s_side * 0.5 * sp * am
    else:  # pragma: no cover - guarded by LEG_ACTIONS
        raise AssertionError(lab.legs)

    for side, action in (("left", lab.arm_left), ("right", lab.arm_right)):
        sh, el, sg = _SHOULDER[side], _ELBOW[side], _SIGN[side]
        ramp = _smoothstep(t / 0.6)
        if action == "rest":
            # the arm opposite to a leg swings with it; x>0 swings the arm backward
            e[:, sh, 0] += sg * arm_swing if lab.legs in LOCOMOTION else arm_swing
            e[:, sh, 2] += sg * 0.1
        elif action == "wave":
            f = 2.0 * sp
            e[:, sh, 2] = sg * 1.3 * ramp
            e[:, el, 2] = sg * ramp * (1.1 + 0.45 * am * np.sin(2 * np.pi * f * t + ph0))
        elif action == "raise":
            hold = _smoothstep((t - 0.2) / (0.8 / sp))
            e[:, sh, 0] = -2.7 * am * hold
            e[:, sh, 2] = sg * 0.2 * hold
        elif action == "punch":
            period = 0.8 / sp
            u = (t % period) / period
            ext = np.sin(np.pi * u) ** 2
            e[:, sh, 0] = -1.45 * ramp
            e[:, sh, 1] = -sg * 0.25 * ramp
            e[:, el, 0] = -2.0 * (1 - ext) * ramp
        elif action == "circle":
            w = 2 * np.pi * 0.7 * sp * t + ph0
            e[:, sh, 2] = sg * ramp * (1.2 + 0.55 * am * np.sin(w))
            e[:, sh, 0] = ramp * 0.8 * am * np.cos(w)
        elif action == "clap":
            period = 0.6 / sp
            openness = 0.5 + 0.5 * np.cos(2 * np.pi * t / period)
            e[:, sh, 0] = -1.35 * ramp
            e[:, sh, 1] = sg * ramp * (-0.32 + 0.8 * am * openness)
            e[:, el, 0] = -0.2 * ramp
        else:  # pragma: no cover
            raise AssertionError(action)

    if lab.torso == "bend":
        d = 0.5 * (1 - np.cos(2 * np.pi * t / (3.0 / sp)))
        e[:, _SPINE, 0] += 0.38 * am * d[:, None]
    elif lab.torso == "twist":
        e[:, _SPINE, 1] += 0.28 * am * np.sin(2 * np.pi * 0.5 * sp * t + ph0)[:, None]
    elif lab.torso == "lean":
        e[:, _SPINE, 2] += -s_side * 0.16 * am * _smoothstep(t / 0.8)[:, None]

    heading = np.full(n, rng.uniform(-np.pi, np.pi))
    if lab.path != "straight":
        total = rng.uniform(np.pi / 3, np.pi) * (1.0 if lab.path == "turn_left" else -1.0)
        heading = heading + total * _smoothstep(t / t[-1])
    e[:, 0, 1] = heading

    # small smooth noise on every joint angle: two random sinusoids per angle
    freq = rng.uniform(0.2, 1.2, size=(2, N_JOINTS, 3))
    phase = rng.uniform(0, 2 * np.pi, size=(2, N_JOINTS, 3))
    amp = rng.uniform(0.0, 0.03, size=(2, N_JOINTS, 3))
    e += (amp[:, None] * np.sin(2 * np.pi * freq[:, None] * t[None, :, None, None] + phase[:, None])).sum(0)
    e[:, 0, (0, 2)] = 0.0  # keep the pelvis upright
    return e, vel, lift, heading


def _joints_batch(labels: list[MotionLabel], rngs: list[np.random.Generator]) -> list[np.ndarray]:
    """Joint positions for several motions, with one FK call over all their frames."""
    parts = [_pose(lab, r) for lab, r in zip(labels, rngs)]
    angles = np.concatenate([p[0] for p in parts])
    rot = euler_to_matrix(np.rad2deg(angles[..., [1, 2, 0]]), "YZX")
    joints_all = fk(rot, np.zeros((len(angles), 3)), backend="numpy")
    out, start = [], 0
    for e, vel, lift, heading in parts:
        n = len(e)
        j = joints_all[start : start + n]
        start += n
        world_v = np.stack(
            [vel[:, 0] * np.cos(heading) + vel[:, 1] * np.sin(heading),
             -vel[:, 0] * np.sin(heading) + vel[:, 1] * np.cos(heading)], axis=-1)
        xz = np.concatenate([np.zeros((1, 2)), np.cumsum(world_v[1:] / FPS, axis=0)])
        root_y = -j[:, :, 1].min(axis=1) + lift  # lowest joint on the floor, plus flight
        out.append(j + np.stack([xz[:, 0], root_y, xz[:, 1]], axis=-1)[:, None])
    return out


def motion_for_label(label: MotionLabel, seed: int = 0) -> np.ndarray:
    """Joint positions (label.frames + 1, 22, 3) of one motion with the given composition."""
    return _joints_batch([label], [np.random.default_rng([seed, 1 << 20])])[0]


# ---------------------------------------------------------------------------- captions

_SUBJECTS = ("a person", "someone", "a man", "a woman", "the person", "a figure", "a human")
_LEG_PHRASES: dict[str, tuple[tuple[str, str], ...]] = {
    "stand": (("stands still", "standing still"), ("stands in place", "standing in place"),
              ("stays in one spot", "staying in one spot")),
    "walk_forward": (("walks forward", "walking forward"), ("walks ahead", "walking ahead"),
                     ("strolls forward", "strolling forward")),
    "walk_backward": (("walks backward", "walking backward"), ("walks backwards", "walking backwards"),
                      ("moves backward step by step", "moving backward step by step")),
    "run": (("runs forward", "running forward"), ("jogs forward", "jogging forward"), ("runs ahead", "running ahead")),
    "jump": (("jumps up and down", "jumping up and down"), ("jumps in place", "jumping in place"),
             ("hops on both feet", "hopping on both feet")),
    "squat": (("squats down and up", "squatting down and up"), ("does squats", "doing squats"),
              ("crouches down and stands up", "crouching down and standing up")),
    "kick": (("kicks with the {side} leg", "kicking with the {side} leg"),
             ("kicks the {side} foot forward", "kicking the {side} foot forward"),
             ("kicks forward with the {side} foot", "kicking forward with the {side} foot")),
    "sidestep": (("sidesteps to the {side}", "sidestepping to the {side}"),
                 ("steps sideways to the {side}", "stepping sideways to the {side}"),
                 ("shuffles to the {side}", "shuffling to the {side}")),
}
# {hand}/{arm}/{fist}: "the right hand" or "both hands"
_ARM_PHRASES: dict[str, tuple[tuple[str, str], ...]] = {
    "wave": (("waves {hand}", "waving {hand}"), ("waves with {arm}", "waving with {arm}"),
             ("waves hello with {hand}", "waving hello with {hand}")),
    "raise": (("raises {arm}", "raising {arm}"), ("lifts {arm} up", "lifting {arm} up"),
              ("puts {hand} up", "putting {hand} up")),
    "punch": (("punches with {fist}", "punching with {fist}"), ("throws punches with {hand}", "throwing punches with {hand}"),
              ("jabs forward with {arm}", "jabbing forward with {arm}")),
    "circle": (("circles {arm}", "circling {arm}"), ("rotates {arm} in circles", "rotating {arm} in circles"),
               ("swings {arm} in a circle", "swinging {arm} in a circle")),
    "clap": (("claps the hands", "clapping the hands"), ("claps", "clapping"),
             ("claps both hands together", "clapping both hands together")),
}
_TORSO_PHRASES: dict[str, tuple[tuple[str, str], ...]] = {
    "bend": (("bends forward", "bending forward"), ("bends over", "bending over"),
             ("bows the upper body forward", "bowing the upper body forward")),
    "twist": (("twists the torso", "twisting the torso"), ("twists the upper body", "twisting the upper body"),
              ("turns the upper body from side to side", "turning the upper body from side to side")),
    "lean": (("leans to the {side}", "leaning to the {side}"), ("tilts the body to the {side}", "tilting the body to the {side}"),
             ("leans the torso {side}", "leaning the torso {side}")),
}
_PATH_PHRASES: dict[str, tuple[tuple[str, str], ...]] = {
    "turn_left": (("turns left", "turning left"), ("curves to the left", "curving to the left"),
                  ("veers left", "veering left")),
    "turn_right": (("turns right", "turning right"), ("curves to the right", "curving to the right"),
                   ("veers right", "veering right")),
}

# word -> (POS, lemma). spaCy UPOS tags as HumanML3D text_process.py writes them (nouns and
# verbs lemmatised, other words kept); a fixed table for our small vocabulary.
_LEXICON: dict[str, tuple[str, str]] = {}
for _pos, _words in {
    "DET": "a the both",
    "PRON": "someone",
    "NOUN": "person man woman figure human hand hands arm arms fist fists leg foot feet torso body "
            "side spot place circle punches squats step hello",
    "ADJ": "left right upper one",
    "ADV": "forward backward backwards ahead still sideways up down together quickly slowly over",
    "ADP": "in with to from on by",
    "CCONJ": "and",
    "SCONJ": "while",
}.items():
    for _w in _words.split():
        _LEXICON[_w] = (_pos, _w)
_VERBS = {
    "walk": "walks walking", "stand": "stands standing", "stay": "stays staying", "stroll": "strolls strolling",
    "move": "moves moving", "run": "runs running", "jog": "jogs jogging", "jump": "jumps jumping",
    "hop": "hops hopping", "squat": "squatting", "do": "does doing", "crouch": "crouches crouching",
    "kick": "kicks kicking", "sidestep": "sidesteps sidestepping", "shuffle": "shuffles shuffling",
    "wave": "waves waving", "raise": "raises raising", "lift": "lifts lifting", "put": "puts putting",
    "punch": "punching", "throw": "throws throwing", "jab": "jabs jabbing", "rotate": "rotates rotating",
    "swing": "swings swinging", "clap": "claps clapping", "bend": "bends bending", "bow": "bows bowing",
    "twist": "twists twisting", "turn": "turns turning", "lean": "leans leaning", "tilt": "tilts tilting",
    "curve": "curves curving", "veer": "veers veering", "step": "steps stepping",
}
for _lemma, _forms in _VERBS.items():
    for _w in _forms.split():
        _LEXICON[_w] = ("VERB", _lemma)
for _w, _lemma in {"hands": "hand", "arms": "arm", "fists": "fist", "feet": "foot", "punches": "punch",
                   "squats": "squat"}.items():
    _LEXICON[_w] = ("NOUN", _lemma)
_LEXICON["circles"] = ("VERB", "circle")
_LEXICON["circling"] = ("VERB", "circle")
_LEXICON["punches"] = ("VERB", "punch")
_LEXICON["squats"] = ("VERB", "squat")
# words read as verbs except after these (then nouns)
_NOUN_AFTER = {"circles": {"in"}, "squats": {"does", "doing"}, "punches": {"throws", "throwing"}}


def pos_tokens(caption: str) -> str:
    """HumanML3D token field: 'word/POS' per alphabetic word, nouns/verbs lemmatised."""
    out = []
    prev = ""
    for raw in caption.replace(",", " ").replace(".", " ").split():
        word = raw.lower()
        if not word.isalpha():
            continue
        if word not in _LEXICON:
            raise KeyError(f"word {word!r} missing from the synthetic POS lexicon")
        pos, lemma = _LEXICON[word]
        if word in _NOUN_AFTER and prev in _NOUN_AFTER[word]:  # "in circles", "does squats"
            pos = "NOUN"
        out.append(f"{lemma}/{pos}")
        prev = word
    return " ".join(out)


def _arm_fill(side: str) -> dict[str, str]:
    if side == "both":
        return {"hand": "both hands", "arm": "both arms", "fist": "both fists"}
    return {"hand": f"the {side} hand", "arm": f"the {side} arm", "fist": f"the {side} fist"}


def _phrases(lab: MotionLabel, rng: np.random.Generator) -> tuple[tuple[str, str], list[tuple[str, str]]]:
    def pick(table: tuple[tuple[str, str], ...], **fill: str) -> tuple[str, str]:
        fin, ger = table[rng.integers(len(table))]
        return fin.format(**fill), ger.format(**fill)

    fin, ger = pick(_LEG_PHRASES[lab.legs], side=lab.side)
    if lab.legs != "stand" and (lab.speed > 1.15 or lab.speed < 0.85) and rng.random() < 0.7:
        adv = "quickly" if lab.speed > 1.15 else "slowly"
        fin, ger = f"{fin} {adv}", f"{ger} {adv}"
    extras: list[tuple[str, str]] = []
    if lab.path != "straight":
        extras.append(pick(_PATH_PHRASES[lab.path]))
    if lab.arm_left == "clap":
        extras.append(pick(_ARM_PHRASES["clap"]))
    elif lab.arm_left == lab.arm_right != "rest":
        extras.append(pick(_ARM_PHRASES[lab.arm_left], **_arm_fill("both")))
    else:
        order = [("right", lab.arm_right), ("left", lab.arm_left)]
        if rng.random() < 0.5:
            order.reverse()
        extras += [pick(_ARM_PHRASES[a], **_arm_fill(s)) for s, a in order if a != "rest"]
    if lab.torso != "upright":
        extras.append(pick(_TORSO_PHRASES[lab.torso], side=lab.side))
    return (fin, ger), extras


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def make_captions(lab: MotionLabel, rng: np.random.Generator, k: int = 3) -> list[str]:
    """k different phrasings of the motion (subject, synonyms and clause order vary)."""
    templates = [0, 1, 2, 3, 4]
    rng.shuffle(templates)
    out: list[str] = []
    for tpl in templates:
        (fin, ger), extras = _phrases(lab, rng)
        subj = _SUBJECTS[rng.integers(len(_SUBJECTS))]
        if not extras:
            text = f"{subj} {fin}" if tpl % 2 == 0 else f"{subj} is {ger}"
        elif tpl == 0:
            text = f"{subj} {fin} while {_join([g for _, g in extras])}"
        elif tpl == 1:
            text = f"{subj} {_join([f for f, _ in extras])} while {ger}"
        elif tpl == 2:
            text = f"{subj} {fin}, {_join([g for _, g in extras])}"
        elif tpl == 3:
            text = f"{subj} {fin} and {_join([f for f, _ in extras])}"
        else:
            text = f"{ger}, {subj} {_join([f for f, _ in extras])}"
        text = text + "."
        if text not in out:
            out.append(text)
        if len(out) == k:
            break
    return out


_LEXICON["is"] = ("AUX", "is")


# ------------------------------------------------------------------------------ writing


def _group_std(feats: np.ndarray) -> np.ndarray:
    """Per-dimension std averaged within each feature group, as HumanML3D
    cal_mean_variance.ipynb does (root rot vel, root lin vel, root y, ric, rot, vel, feet)."""
    std = feats.std(axis=0)
    for sl in (slice(0, 1), slice(1, 3), slice(3, 4), RIC, ROT6D, LOCAL_VEL, slice(259, 263)):
        std[sl] = std[sl].mean()
    return std


def synthesize(out: Path | str, size: int = 4000, seed: int = 0) -> Path:
    """Write the synthetic dataset (HumanML3D layout) of `size` motions to `out`."""
    if size < 1:
        raise UserError(f"synthetic size must be >= 1, got {size}")
    out = Path(out)
    for sub in ("new_joint_vecs", "new_joints", "texts"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    labels: list[MotionLabel] = []
    splits: dict[str, list[str]] = {name: [] for name, _ in SPLIT_FRACTIONS}
    splits["test_compositional"] = []
    train_feats: list[np.ndarray] = []
    chunk = 64
    for start in range(0, size, chunk):
        idx = list(range(start, min(size, start + chunk)))
        rngs = [np.random.default_rng([seed, i]) for i in idx]
        labs = []
        for r in rngs:
            lab = sample_label(r)
            if lab.held_out() and r.random() < 0.5:  # halve the held-out share
                lab = sample_label(r)
            labs.append(lab)
        for i, r, lab, joints in zip(idx, rngs, labs, _joints_batch(labs, rngs)):
            cid = f"{i:06d}"
            feats = joints_to_features(joints).astype(np.float32)
            assert feats.shape == (lab.frames, FEATURE_DIM)
            np.save(out / "new_joint_vecs" / f"{cid}.npy", feats)
            np.save(out / "new_joints" / f"{cid}.npy", features_to_joints(feats))
            lines = [f"{c}#{pos_tokens(c)}#0.0#0.0" for c in make_captions(lab, r)]
            (out / "texts" / f"{cid}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
            if lab.held_out():
                split = "test_compositional"
            else:
                u, acc, split = r.random(), 0.0, "test"
                for name, frac in SPLIT_FRACTIONS:
                    acc += frac
                    if u < acc:
                        split = name
                        break
            splits[split].append(cid)
            if split == "train":
                train_feats.append(feats)
            labels.append(lab)
    if not train_feats:
        raise UserError(f"synthetic size {size} is too small: no training motion to compute Mean/Std")
    allf = np.concatenate(train_feats).astype(np.float64)
    np.save(out / "Mean.npy", allf.mean(axis=0).astype(np.float32))
    std = _group_std(allf)
    std[std < 1e-6] = 1.0  # a constant group (e.g. feet of a tiny set): leave it unscaled
    np.save(out / "Std.npy", std.astype(np.float32))
    for name, ids in splits.items():
        (out / f"{name}.txt").write_text("".join(f"{i}\n" for i in ids), encoding="utf-8")
    label_map = {f"{i:06d}": asdict(lab) for i, lab in enumerate(labels)}
    (out / "labels.json").write_text(json.dumps(label_map, sort_keys=True, indent=0) + "\n", encoding="utf-8")
    manifest = {
        "generator": "hmvlm_bench.motion.synthetic",
        "version": GENERATOR_VERSION,
        "seed": seed,
        "size": size,
        "fps": FPS,
        "feature_dim": FEATURE_DIM,
        "counts": {name: len(ids) for name, ids in splits.items()},
        "held_out_pairs": [list(p) for p in HELD_OUT_PAIRS],
        "actions": {"legs": list(LEG_ACTIONS), "arm": list(ARM_ACTIONS) + ["clap"],
                    "torso": list(TORSO_ACTIONS), "path": list(PATHS)},
    }
    (out / "synthetic.json").write_text(json.dumps(manifest, sort_keys=True, indent=2) + "\n", encoding="utf-8")
    return out


def load_labels(root: Path | str) -> dict[str, MotionLabel]:
    """The action labels of a synthesized dataset (id -> MotionLabel)."""
    path = Path(root) / "labels.json"
    if not path.is_file():
        raise UserError(f"{path} missing: not a synthetic dataset written by this version")
    return {k: MotionLabel(**v) for k, v in json.loads(path.read_text(encoding="utf-8")).items()}
