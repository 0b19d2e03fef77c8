"""The bot / fake score: gradient-boosted trees trained by ``train_bots.py``
and shipped as plain arrays, evaluated here without scikit-learn.

Two models: the X model (``bot_model_x.json``) for X profiles that carry
like and list counts, the cross-network model (``bot_model.json``) for every
other profile (Bluesky, Mastodon, X v2 objects without ``like_count``). Each
has its own threshold, chosen in training.

``score(profile)`` gives the probability-like suspicion (0-1), whether it
passes the threshold chosen in training, and the reasons in words: plain
checks on the profile that a person can verify, listed when they hold. A
rule score built from the same checks lifts the suspicion of obvious fakes
the training data never showed (see ``red_flags``). A
network's own automated label (Mastodon's bot flag, a Bluesky label) is
reported apart from the model and always marks the account.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Literal, TypedDict, cast

from hubbub.audience.features import (
    FEATURES,
    MISSING,
    X_FEATURES,
    age_days,
    featurise,
    featurise_x,
    has_x_counts,
)
from hubbub.audience.profile import Profile


@dataclass(frozen=True, slots=True)
class Tree:
    feature: tuple[int, ...]
    threshold: tuple[float, ...]
    left: tuple[int, ...]
    right: tuple[int, ...]
    value: tuple[float, ...]

    def leaf_value(self, x: list[float]) -> float:
        node = 0
        while self.left[node] != -1:
            node = (
                self.left[node]
                if x[self.feature[node]] <= self.threshold[node]
                else self.right[node]
            )
        return self.value[node]


@dataclass(frozen=True, slots=True)
class BotModel:
    features: tuple[str, ...]
    learning_rate: float
    init_logit: float
    threshold: float
    trees: tuple[Tree, ...]

    def probability(self, x: list[float]) -> float:
        raw = self.init_logit + self.learning_rate * sum(t.leaf_value(x) for t in self.trees)
        return 1.0 / (1.0 + math.exp(-raw))


@dataclass(frozen=True, slots=True)
class Score:
    """``suspicion`` is None when the profile gives none of the counts the
    models read (``counts_known``): no score, rather than the safest one.
    ``suspicious`` is then None (unknown), or True when the network itself
    labels the account automated."""

    suspicion: float | None
    suspicious: bool | None
    reasons: tuple[str, ...]


NOT_SCORED = "not enough public data to score (no post or follower counts)"


def counts_known(posts: int | None, followers: int | None, following: int | None) -> bool:
    """Whether a profile can be scored: both models start from these three
    counts (``features.FEATURES``), and with none of them (a bare Bluesky
    profile view) they have nothing to go on. Stored followers keep the three
    counts, so the audit tells a stored score from "not scored" by this rule."""
    return posts is not None or followers is not None or following is not None


class _TreeFile(TypedDict):
    feature: list[int]
    threshold: list[float]
    left: list[int]
    right: list[int]
    value: list[float]


class _ModelFile(TypedDict):
    """bot_model.json as ``train_bots.export`` writes it."""

    features: list[str]
    learning_rate: float
    init_logit: float
    threshold: float
    trees: list[_TreeFile]


def _read(name: str) -> dict[str, object]:
    text = resources.files("hubbub.audience").joinpath("models", name).read_text(encoding="utf-8")
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{name}: not a JSON object")
    return data


ModelKind = Literal["cross", "x"]
MODEL_FILES: dict[ModelKind, tuple[str, tuple[str, ...]]] = {
    "cross": ("bot_model.json", FEATURES),
    "x": ("bot_model_x.json", X_FEATURES),
}


@lru_cache(maxsize=2)
def load_model(kind: ModelKind = "cross") -> BotModel:
    # The file ships with the package, written by train_bots.export in this shape.
    name, expected = MODEL_FILES[kind]
    data = cast(_ModelFile, _read(name))
    features = tuple(str(f) for f in data["features"])
    if features != expected:
        raise ValueError(f"{name} was trained on other features: retrain it")
    trees = tuple(
        Tree(
            tuple(t["feature"]),
            tuple(t["threshold"]),
            tuple(t["left"]),
            tuple(t["right"]),
            tuple(t["value"]),
        )
        for t in data["trees"]
    )
    return BotModel(
        features,
        float(data["learning_rate"]),
        float(data["init_logit"]),
        float(data["threshold"]),
        trees,
    )


@lru_cache(maxsize=1)
def accuracy() -> dict[str, object]:
    """The measured figures (docs/audience.md), shown beside every score."""
    return _read("bot_accuracy.json")


# Red flags a person can check on the profile, with the weight each adds to
# the rule score. The Cresci 2017 spambots (old accounts, ordinary counts)
# show none of them, so the model alone misses today's obvious fakes: a
# week-old account with a default picture following thousands. The rule
# score counts only from RULE_FLOOR up; on the training file it flags 2 of
# 2,452 genuine accounts (docs/audience.md).
RULE_FLOOR = 0.7


def red_flags(profile: Profile, now: datetime | None = None) -> tuple[float, list[str]]:
    """(rule score 0-1, the flags in words) for this profile."""
    points = 0.0
    found: list[str] = []
    if profile.default_avatar:
        points += 0.25
        found.append("default profile picture")
    if not profile.description.strip():
        points += 0.15
        found.append("no bio")
    followers, following = profile.followers, profile.following
    lopsided = followers is not None and following is not None and following >= 100
    if lopsided and followers is not None and following is not None and followers * 10 < following:
        points += 0.3
        found.append(f"follows {following:,} accounts but has {followers:,} followers")
    days = age_days(profile, now)
    posts = profile.posts
    if days is not None and posts is not None:
        if days >= 1 and posts / days > 50:
            points += 0.3
            found.append(f"posts about {posts / days:,.0f} times a day")
        if days < 30:
            if posts > 500:
                points += 0.2
            found.append(f"account {int(days)} days old")
        if days > 180 and posts < 10:
            found.append(f"{posts} posts in {int(days / 30)} months")
    # Words only (no points): the X model weighs these itself.
    if profile.likes == 0 and posts is not None and posts >= 50:
        found.append(f"has liked no posts in {posts:,} posts")
    handle = profile.handle.split("@")[0]
    digits = len(handle) - len(handle.rstrip("0123456789"))
    if digits >= 4:
        if digits >= 6:
            points += 0.15
        found.append(f"handle ends in {digits} digits")
    return min(1.0, points), found


def reasons(profile: Profile, now: datetime | None = None) -> list[str]:
    """Plain checks that hold for this profile and make accounts look automated."""
    found = [profile.declared_by] if profile.declared_bot and profile.declared_by else []
    return found + red_flags(profile, now)[1]


def combined(model_probability: float, rule_score: float, threshold: float) -> float:
    """What users get: the model, or the rule score where it is high enough.

    A rule score from RULE_FLOOR up is laid onto [threshold, 1] of the model
    that applies, so it marks the account whatever that model's threshold
    (the X model's is high: 0.7 would not reach it)."""
    if rule_score < RULE_FLOOR:
        return model_probability
    lifted = threshold + (rule_score - RULE_FLOOR) / (1.0 - RULE_FLOOR) * (1.0 - threshold)
    return max(model_probability, lifted)


def model_for(profile: Profile, now: datetime | None = None) -> tuple[BotModel, list[float]]:
    """The model that applies to this profile, and its features."""
    if has_x_counts(profile):
        return load_model("x"), featurise_x(profile, now)
    return load_model("cross"), featurise(profile, now)


def score(profile: Profile, now: datetime | None = None) -> Score:
    if not counts_known(profile.posts, profile.followers, profile.following):
        # No score: 0.0 would read as "surely genuine" and be counted so.
        if profile.declared_bot:  # the network's own label needs no counts
            return Score(None, True, (*reasons(profile, now), NOT_SCORED))
        return Score(None, None, (NOT_SCORED,))
    model, x = model_for(profile, now)
    assert not all(v == MISSING for v in x[:3])  # counts_known is the models' own rule
    rule_score = red_flags(profile, now)[0]
    suspicion = combined(model.probability(x), rule_score, model.threshold)
    suspicious = profile.declared_bot or suspicion >= model.threshold
    why = reasons(profile, now) if suspicious or suspicion >= 0.5 * model.threshold else []
    if suspicious and not why:
        why = ["an unusual combination of posting and follower counts"]
    return Score(round(suspicion, 4), suspicious, tuple(why))
