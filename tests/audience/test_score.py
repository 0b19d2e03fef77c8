"""`hubbub audience score`: profiles of every network, scored without a database."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from datetime import UTC, datetime

import orjson

from hubbub.audience.bot_model import score
from hubbub.audience.profile import profile_from_object


def _run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "hubbub.cli", "audience", "score", *args],
        input=stdin,
        capture_output=True,
        check=False,
        timeout=120,
    )


FETCHED = "2021-09-01T00:00:00.000Z"
X_V2_SPAMMY = {
    "id": "1383488647345754112",
    "username": "prettylisa00",
    "name": "Lisa",
    "description": "",
    "created_at": "2021-08-20T00:00:00.000Z",
    "profile_image_url": "https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png",
    "public_metrics": {
        "followers_count": 0,
        "following_count": 1930,
        "tweet_count": 5000,
        "listed_count": 0,
    },
}
X_V2_PERSON = {
    "id": "1479465499",
    "username": "HJBORR",
    "name": "Henry Orr",
    "description": "Husband, Physicist, Cyclist, Skier, Cat-owner.",
    "created_at": "2013-06-03T10:00:00.000Z",
    "profile_image_url": "https://pbs.twimg.com/profile_images/1/a_normal.jpg",
    "public_metrics": {
        "followers_count": 580,
        "following_count": 384,
        "tweet_count": 4901,
        "listed_count": 12,
    },
}
X_V1 = {
    "id": 12,
    "id_str": "12",
    "screen_name": "jack",
    "name": "jack",
    "description": "",
    "created_at": "Tue Mar 21 20:50:14 +0000 2006",
    "statuses_count": 29000,
    "followers_count": 6400000,
    "friends_count": 4500,
    "default_profile_image": False,
}
MASTODON_BOT = {
    "id": "109",
    "username": "feed",
    "acct": "feed@botsin.space",
    "display_name": "Feed",
    "note": "",
    "bot": True,
    "created_at": "2022-01-01T00:00:00.000Z",
    "statuses_count": 90000,
    "followers_count": 12,
    "following_count": 0,
    "avatar": "https://botsin.space/avatars/original/missing.png",
}
BLUESKY = {
    "did": "did:plc:abc",
    "handle": "alice.bsky.social",
    "displayName": "Alice",
    "createdAt": "2023-10-05T11:25:58.672Z",
    "labels": [],
}


def test_every_network_in_input_order_with_the_contract_keys():
    page = {"data": [X_V2_SPAMMY, X_V2_PERSON], "__twarc": {"retrieved_at": FETCHED}}
    lines = b"\n".join(orjson.dumps(doc) for doc in (page, X_V1, MASTODON_BOT, BLUESKY)) + b"\n"
    proc = _run("-", stdin=lines)
    assert proc.returncode == 0, proc.stderr
    rows = [orjson.loads(line) for line in proc.stdout.splitlines()]
    assert [(r["network"], r["id"], r["handle"]) for r in rows] == [
        ("x", "1383488647345754112", "prettylisa00"),
        ("x", "1479465499", "HJBORR"),
        ("x", "12", "jack"),
        ("mastodon", "109", "feed@botsin.space"),
        ("bluesky", "did:plc:abc", "alice.bsky.social"),
    ]
    for row in rows[:-1]:
        assert set(row) == {"network", "id", "handle", "suspicion", "suspicious", "reasons"}
        assert 0.0 <= row["suspicion"] <= 1.0 and isinstance(row["suspicious"], bool)
    spammy, person, _, bot, bsky = rows
    assert spammy["suspicious"] is True and person["suspicious"] is False
    assert "default profile picture" in spammy["reasons"]
    assert "follows 1,930 accounts but has 0 followers" in spammy["reasons"]
    # A network's own label marks the account whatever the model says.
    assert bot["suspicious"] is True
    assert "the account is marked as a bot on Mastodon" in bot["reasons"]
    # A bare Bluesky profile view has no counts: not scored (null), rather than
    # the safest score; the same keys all the same.
    assert set(bsky) == set(rows[0])
    assert bsky["suspicion"] is None and bsky["suspicious"] is None
    assert "not enough public data" in bsky["reasons"][0]
    assert b"1 of 5 accounts could not be scored" in proc.stderr


def test_age_is_measured_when_the_profile_was_fetched():
    fetched = datetime(2021, 9, 1, tzinfo=UTC)
    young = profile_from_object(X_V2_SPAMMY, fetched)
    assert young is not None
    assert "account 12 days old" in score(young).reasons
    later = profile_from_object(X_V2_SPAMMY, None)  # no fetch time: measured now
    assert not any("days old" in r for r in score(later, datetime(2026, 1, 1, tzinfo=UTC)).reasons)


def test_csv_output_and_spreadsheet_safety():
    hostile = dict(X_V2_PERSON, username="=HYPERLINK(1)")
    proc = _run("--format", "csv", "-", stdin=orjson.dumps(hostile) + b"\n")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.reader(io.StringIO(proc.stdout.decode())))
    assert rows[0] == ["network", "id", "handle", "suspicion", "suspicious", "reasons"]
    assert rows[1][2] == "'=HYPERLINK(1)" and rows[1][4] in ("true", "false")


def test_bad_lines_are_named_and_the_rest_is_scored(tmp_path):
    path = tmp_path / "profiles.jsonl"
    path.write_bytes(orjson.dumps(X_V1) + b"\n{broken\n" + orjson.dumps(X_V2_PERSON) + b"\n")
    proc = _run(str(path))
    assert proc.returncode == 1
    assert f"{path}:2:".encode() in proc.stderr and b"Traceback" not in proc.stderr
    assert len(proc.stdout.splitlines()) == 2


def test_lines_that_hold_no_account_are_named_not_dropped(tmp_path):
    """JSON that is not a profile (a list of numbers, null, a status) used to vanish
    with exit status 0 (found by a newcomer review)."""
    path = tmp_path / "mixed.jsonl"
    lines = [orjson.dumps(X_V1), b"[1,2]", b"null", b'{"foo":1}', orjson.dumps(MASTODON_BOT)]
    path.write_bytes(b"\n".join(lines) + b"\n")
    proc = _run(str(path))
    assert proc.returncode == 1
    for line in (2, 3, 4):
        assert f"{path}:{line}: no account profile".encode() in proc.stderr
    assert [orjson.loads(r)["id"] for r in proc.stdout.splitlines()] == [X_V1["id_str"], "109"]


def test_real_profiles_from_the_shared_payloads(shared_data):
    proc = _run(str(shared_data / "payloads" / "x_v2_twarc2" / "users.jsonl"))
    assert proc.returncode == 0, proc.stderr
    rows = [orjson.loads(line) for line in proc.stdout.splitlines()]
    assert len(rows) == 96 and all(r["network"] == "x" for r in rows)
    proc = _run(str(shared_data / "payloads" / "mastodon" / "account_entity_example.json"))
    assert proc.returncode == 0 and orjson.loads(proc.stdout)["network"] == "mastodon"
