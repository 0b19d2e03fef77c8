"""The two shipped bot models: which one a profile gets, and that the plain
arrays reproduce scikit-learn's probabilities for each."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hubbub.audience.bot_model import accuracy, load_model, model_for, reasons, score
from hubbub.audience.features import FEATURES, X_FEATURES
from hubbub.audience.profile import profile_from_object
from tests.audience.test_score import X_V2_PERSON

FETCHED = datetime(2021, 9, 1, tzinfo=UTC)

X_V1 = {
    "id_str": "77",
    "screen_name": "quietreader",
    "name": "Quiet Reader",
    "description": "Books, tea, long walks.",
    "created_at": "Tue Mar 21 20:50:14 +0000 2012",
    "statuses_count": 2400,
    "followers_count": 310,
    "friends_count": 290,
    "favourites_count": 5100,
    "listed_count": 4,
    "default_profile_image": False,
}
# An X v2 profile without like_count (what the followers endpoint returned in 2021-22).
X_V2_NO_LIKES = X_V2_PERSON


@pytest.mark.parametrize(("kind", "checks"), [("x", "checks"), ("cross", "cross_network_checks")])
def test_shipped_trees_reproduce_scikit_learn(kind, checks):
    """The checks were computed by scikit-learn when each model was trained."""
    model = load_model(kind)
    found = accuracy()[checks]
    assert len(found) >= 10
    for check in found:
        assert len(check["features"]) == len(model.features)
        assert model.probability(check["features"]) == pytest.approx(check["probability"], abs=1e-5)


def test_the_x_model_applies_only_with_like_and_list_counts():
    with_counts = profile_from_object(X_V1, FETCHED)
    assert with_counts is not None and with_counts.likes == 5100 and with_counts.listed == 4
    model, x = model_for(with_counts)
    assert model.features == X_FEATURES and len(x) == len(X_FEATURES)
    # X v2 objects of 2021-2022 carry listed_count but no like_count.
    without = profile_from_object(X_V2_NO_LIKES, FETCHED)
    assert without is not None and without.likes is None and without.listed == 12
    model, x = model_for(without)
    assert model.features == FEATURES and len(x) == len(FEATURES)
    # A v2 object with like_count (newer responses) gets the X model.
    metrics = {**X_V2_NO_LIKES["public_metrics"], "like_count": 900}  # type: ignore[dict-item]
    newer = profile_from_object({**X_V2_NO_LIKES, "public_metrics": metrics}, FETCHED)
    assert newer is not None and model_for(newer)[0].features == X_FEATURES


def test_both_models_figures_are_shipped_beside_the_baseline():
    figures = accuracy()
    assert figures["folds"] == 10 and figures["accounts"] > 3000
    for key in ("f1_suspicious", "cross_network_f1_suspicious"):
        assert figures[key] > figures["baseline_f1_suspicious"]
    for key in ("threshold", "cross_network_threshold"):
        assert 0 < figures[key] < 1
    assert 0 < figures["precision_on_recent_x_profiles"] < 1


def test_an_account_that_never_likes_says_so_in_words():
    broadcaster = dict(X_V1, favourites_count=0, listed_count=0, friends_count=0, description="")
    profile = profile_from_object(broadcaster, FETCHED)
    assert profile is not None
    assert "has liked no posts in 2,400 posts" in reasons(profile)
    person = profile_from_object(X_V1, FETCHED)
    assert person is not None and score(person).suspicious is False


def test_red_flags_mark_the_account_whatever_the_models_threshold():
    """The X model's threshold is high; a rule score from its floor up must
    still mark the account (combined lays it onto [threshold, 1])."""
    fake = {
        "id_str": "88",
        "screen_name": "lisa48213377",
        "name": "Lisa",
        "description": "",
        "created_at": "Fri Aug 20 00:00:00 +0000 2021",
        "statuses_count": 5000,
        "followers_count": 0,
        "friends_count": 1930,
        "favourites_count": 3000,
        "listed_count": 0,
        "default_profile_image": True,
    }
    profile = profile_from_object(fake, FETCHED)
    assert profile is not None and model_for(profile)[0].features == X_FEATURES
    result = score(profile)
    assert result.suspicious is True
    assert result.suspicion >= load_model("x").threshold
    assert "default profile picture" in result.reasons
