"""The hand-labelled general tweets that train the complaint head: every label finds
its tweet, and none of them is a text any evaluation measures."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubbub.classify import datasets
from hubbub.classify.evaluate import labelled_posts
from tests.conftest import require_shared_data


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def test_every_label_names_its_tweet() -> None:
    root = require_shared_data()
    texts, labels = datasets.labelled_general_complaints(root)
    assert len(texts) == 3600  # two rounds of 1,800 (research/general_complaint_sample.py)
    assert len({_key(t) for t in texts}) == len(texts)  # no tweet labelled twice
    assert set(labels) == {0, 1}
    # Complaints occur in general talk, but rarely: the set is mostly non-complaints.
    assert 0.05 < sum(labels) / len(labels) < 0.2


def test_no_labelled_tweet_is_in_an_evaluation_set() -> None:
    root = require_shared_data()
    labelled = {_key(t) for t in datasets.labelled_general_complaints(root)[0]}
    complaint_texts = datasets.complaints(root)[0]
    sentiment_val = datasets.tweeteval(root, "sentiment", "val")[0]
    offensive_val = datasets.tweeteval(root, "offensive", "val")[0]
    payload = [post.text for _, post in labelled_posts(root)]
    for name, evaluated in (
        ("complaint data", complaint_texts),
        ("TweetEval sentiment val", sentiment_val),
        ("TweetEval offensive val", offensive_val),
        ("hand-labelled payload posts", payload),
    ):
        shared = labelled & {_key(t) for t in evaluated}
        assert not shared, f"{len(shared)} labelled tweets are in the {name}"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("0\tffffffff\t1\n", "row 0's text has changed"),
        ("99999999\tffffffff\t1\n", "row 99999999 is not in train.csv"),
        ("{row}\t{sha}\tyes\n", "label 'yes' is not 0 or 1"),
    ],
)
def test_a_bad_label_line_is_named(tmp_path: Path, line: str, message: str) -> None:
    root = require_shared_data()
    first = datasets.LABELLED_GENERAL.read_text(encoding="utf-8").splitlines()[1]
    row, sha, _ = first.split("\t")
    bad = tmp_path / "labels.tsv"
    bad.write_text("row\tsha\tcomplaint\n" + line.format(row=row, sha=sha), encoding="utf-8")
    with pytest.raises(ValueError, match=f"labels.tsv:2: {message}"):
        datasets.labelled_general_complaints(root, bad)
