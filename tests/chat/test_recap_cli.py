"""``hubbub recap`` as a real process: JSON alone on stdout, files by format,
clear errors for bad input; hostile text escaped in every format."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from hubbub.post import Author, Post
from hubbub.store import Ingest, open_store
from tests.cli.test_data_commands import hubbub

TAG = "pizzachat"
HOSTILE = "<script>alert(1)</script> [x](javascript:alert(2)) ![i](http://evil/x.png) **b** <img src=x onerror=alert(3)>"
HARD = "Zażółć gęślą jaźń 🎉🙂 日本語のテキスト 한국어"


def _post(n: int, text: str, handle: str, at: datetime, **kw: object) -> Post:
    return Post(
        "x",
        str(1000 + n),
        Author("x", f"id-{handle}", handle, display_name=handle.title()),
        f"{text} #{TAG}",
        at,
        hashtags=(TAG,),
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "recap.db")
    at = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)
    with open_store(path) as store:
        store.ingest(
            [
                Ingest(_post(1, f"Q1: {HARD}", "host", at)),
                Ingest(_post(2, f"Q2: {HOSTILE}", "host", at.replace(minute=10))),
                Ingest(
                    _post(3, f"A1 {HOSTILE}", "ann", at.replace(minute=5), metrics={"likes": 4})
                ),
            ]
        )
    return path


def test_json_alone_on_stdout(db: str) -> None:
    done = hubbub("recap", TAG, "--db", db)
    assert done.returncode == 0, done.stderr
    data = orjson.loads(done.stdout)
    assert data["day"] == "2026-03-02"
    assert [(q["number"], q["text"], q["answer_count"]) for q in data["questions"]] == [
        (1, HARD, 1),
        (2, HOSTILE, 0),
    ]
    assert data["participants"] == {
        "total": 2,
        "by_network": {"x": 2},
        "most_active": data["participants"]["most_active"],
    }


@pytest.mark.slow
def test_formats_to_files_escape_hostile_text(db: str, tmp_path: Path) -> None:
    from pypdf import PdfReader

    for fmt in ("html", "md", "pdf"):
        out = tmp_path / f"r.{fmt}"
        done = hubbub(
            "recap", f"#{TAG.upper()}", "--on", "2026-03-02", "--out", str(out), "--db", db
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout == b""
    html = (tmp_path / "r.html").read_text()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert HARD in html
    # Nothing is loaded from elsewhere: no script, stylesheet link, image or frame.
    assert not re.search(r"<(script|link|img|iframe|object)\b", html, re.IGNORECASE)
    md = (tmp_path / "r.md").read_text()
    assert HARD in md and HOSTILE in md  # question text verbatim (inside a fence)
    answer_line = next(line for line in md.splitlines() if "Ann" in line and "alert" in line)
    # Every character Markdown acts on is backslash-escaped: no tag, link or image.
    assert not re.search(r"(?<!\\)[<\[\]!*]", answer_line.split(": ", 1)[1])
    pdf = (tmp_path / "r.pdf").read_bytes()
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages)
    assert HARD in text
    assert HOSTILE in text
    # Every font is embedded in the file (nothing to fetch or find on the reader's side).
    reader = PdfReader(io.BytesIO(pdf))
    fonts = [f.get_object() for p in reader.pages for f in p["/Resources"]["/Font"].values()]
    assert len(fonts) >= 3  # the main font and the fallbacks the text needed
    for font in fonts:
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor, font["/BaseFont"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--on", "2026-02-30"], b"not a day"),
        (["--on", "2026-03-01"], b""),
        (["--format", "docx"], b"Invalid value"),
    ],
)
def test_bad_input_is_a_clear_error(db: str, args: list[str], message: bytes) -> None:
    done = hubbub("recap", TAG, *args, "--db", db)
    if args[:2] == ["--on", "2026-03-01"]:
        # A day without posts is an empty recap, not an error.
        assert done.returncode == 0 and orjson.loads(done.stdout)["posts"] == 0
        return
    assert done.returncode != 0
    assert message in done.stderr and b"Traceback" not in done.stderr


def test_unknown_tag_is_a_clear_error(db: str) -> None:
    done = hubbub("recap", "nosuchchat", "--db", db)
    assert done.returncode == 1 and b"no stored posts with #nosuchchat" in done.stderr


def test_stdout_that_cannot_be_written_is_a_clear_error(db: str) -> None:
    # `hubbub recap TAG > file` on a full disk: one line, no traceback.
    import subprocess
    import sys

    with open("/dev/full", "wb") as full:
        done = subprocess.run(
            [sys.executable, "-m", "hubbub.cli", "recap", TAG, "--format", "pdf", "--db", db],
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=120,
        )
    assert done.returncode == 1
    assert done.stderr.decode().strip().splitlines() == [
        "Error: cannot write the recap to standard output: No space left on device"
    ]


def test_a_blocked_author_and_a_held_post_stay_out_as_in_the_room(tmp_path: Path) -> None:
    # The host blocked a spammer and holds a post for approval in the room:
    # the recap from the command line leaves both out, as the room's own
    # recap download does (the same chat, the same recap).
    from hubbub.web.rooms import RoomRepo

    path = str(tmp_path / "room.db")
    at = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)
    spam = _post(3, "A1 FREE followers, DM me", "spammer", at.replace(minute=2))
    held = _post(4, "A1 waiting for approval", "newbie", at.replace(minute=3))
    with open_store(path) as store:
        store.ingest(
            [
                Ingest(_post(1, "Q1: what now?", "host", at)),
                Ingest(_post(2, "A1 lunch", "ann", at.replace(minute=1))),
                Ingest(spam),
                Ingest(held),
            ]
        )
        rooms = RoomRepo(store, "default")
        rooms.set_person(TAG, "blocked", "x", spam.author.id)
        rooms.hold(rooms.get(TAG), held)
    done = hubbub("recap", TAG, "--db", path)
    assert done.returncode == 0, done.stderr
    data = orjson.loads(done.stdout)
    assert [(q["number"], q["answers"]) for q in data["questions"]] == [(1, ["1002"])]
    assert data["participants"]["total"] == 2  # host and ann
    assert data["new_voices"]["total"] == 2


def test_a_chat_without_questions_does_not_claim_every_question_got_an_answer(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "quiet.db")
    with open_store(path) as store:
        store.ingest([Ingest(_post(1, "just chatting", "ann", datetime(2026, 3, 2, tzinfo=UTC)))])
    for fmt in ("md", "html"):
        done = hubbub("recap", TAG, "--format", fmt, "--db", path)
        assert done.returncode == 0, done.stderr
        assert b"Every question got an answer" not in done.stdout


def _status(local_id: int, acct: str, text: str, minute: int, reply: str | None = None) -> dict:
    """A Mastodon Status entity as mastodon.social's API gives it."""
    return {
        "id": str(local_id),
        "created_at": f"2026-05-05T18:{minute:02d}:00.000Z",
        "in_reply_to_id": reply,
        "in_reply_to_account_id": "10" if reply else None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": "en",
        "uri": f"https://mastodon.social/users/{acct}/statuses/{local_id}",
        "url": f"https://mastodon.social/@{acct}/{local_id}",
        "content": f'<p>{text} <a href="https://mastodon.social/tags/{TAG}" class="mention'
        f' hashtag" rel="tag">#<span>{TAG}</span></a></p>',
        "reblog": None,
        "account": {"id": str(local_id * 10), "username": acct, "acct": acct},
        "media_attachments": [],
        "mentions": [],
        "tags": [{"name": TAG, "url": f"https://mastodon.social/tags/{TAG}"}],
    }


def test_a_mastodon_reply_to_a_question_is_an_answer(tmp_path: Path) -> None:
    # Mastodon's in_reply_to_id is the server's local id, not the status uri
    # Hubbub keys posts by: the reply still answers the question it replies to.
    timeline = tmp_path / "timeline.json"
    timeline.write_bytes(
        orjson.dumps(
            [
                _status(111, "host", "Q1: What is your favourite tea?", 0),
                _status(112, "ann", "Green, always", 1, reply="111"),
                _status(113, "bob", "A1: black", 2),
            ]
        )
    )
    db = str(tmp_path / "masto.db")
    assert hubbub("import", str(timeline), "--db", db).returncode == 0
    done = hubbub("recap", TAG, "--db", db)
    assert done.returncode == 0, done.stderr
    [q] = orjson.loads(done.stdout)["questions"]
    assert (q["number"], q["answer_count"]) == (1, 2)
    assert sorted(q["answers"]) == [
        "https://mastodon.social/users/ann/statuses/112",
        "https://mastodon.social/users/bob/statuses/113",
    ]


def test_markdown_to_a_terminal_carries_no_escape_codes(tmp_path: Path) -> None:
    """Found by the second review: `hubbub recap --format md` printed network
    text's ESC sequences and C0 controls raw to the terminal."""
    path = str(tmp_path / "esc.db")
    at = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)
    evil = "\x1b]0;PWNED\x07 \x1b[2J \x01\x08 \u202egnp.exe"
    with open_store(path) as store:
        store.ingest(
            [
                Ingest(_post(1, f"Q1: what next? {evil}", "host", at)),
                Ingest(_post(2, f"A1 fine {evil}", "ann", at.replace(minute=5))),
            ]
        )
    done = hubbub("recap", TAG, "--format", "md", "--db", path)
    assert done.returncode == 0, done.stderr
    for unsafe in (b"\x1b", b"\x07", b"\x01", b"\x08", "\u202e".encode()):
        assert unsafe not in done.stdout
    text = done.stdout.decode()
    assert "what next?" in text and "fine" in text and "PWNED" in text
