"""Short texts without a confident detection are classified in --lang-default (en by default);
a post's own language (payload fields) always wins; the help shows the measured accuracy."""

from __future__ import annotations

import orjson
from click.testing import CliRunner

from hubbub.classify import classify_texts
from hubbub.classify.accuracy import load_accuracy
from hubbub.classify.language import detect
from hubbub.cli.classify import classify

SHORT_ENGLISH = ["hello", "terrible service", "thanks!!", "ok", "love it", "so slow today"]


def _run(args: list[str], stdin: str) -> list[dict]:
    result = CliRunner().invoke(classify, args, input=stdin)
    assert result.exit_code == 0, result.output
    return [orjson.loads(line) for line in result.stdout.splitlines()]


def test_short_english_texts_are_classified_in_english() -> None:
    # Without the prior the detector calls some of these Breton, French, Latin…
    assert any(detect(t) != "en" for t in SHORT_ENGLISH)
    out = _run([], "\n".join(SHORT_ENGLISH) + "\n")
    assert [o["lang"] for o in out] == ["en"] * len(SHORT_ENGLISH)
    assert all(o["sentiment"] != "unsupported" for o in out)
    assert out[1]["sentiment"] == "negative"


def test_lang_default_can_be_changed_or_turned_off() -> None:
    out = _run(["--lang-default", "none"], "hello\n")
    assert out[0]["lang"] == detect("hello") != "en"
    out = _run(["--lang-default", "de"], "hello\n")
    assert out[0]["lang"] == "de" and out[0]["sentiment"] == "unsupported"
    result = CliRunner().invoke(classify, ["--lang-default", "12"], input="hello\n")
    assert result.exit_code == 2 and "--lang-default" in result.output


def test_confident_detection_and_payload_languages_win() -> None:
    texts = [
        "To jest najgorsza obsługa klienta, jaką widziałem. Nigdy więcej!",
        "Das ist der beste Kaffee der Stadt, vielen Dank!",
    ]
    assert [c.lang for c in classify_texts(texts)] == ["pl", "de"]
    lines = [
        '{"text": "hello", "lang": "fr"}',  # X
        '{"text": "hello", "langs": ["pt-BR"]}',  # Bluesky post view
        '{"text": "hello", "language": "de"}',  # Mastodon
        '{"text": "hello", "record": {"langs": ["es"]}}',  # Bluesky record
        '{"text": "hello"}',
    ]
    out = _run(["--format", "jsonl"], "\n".join(lines) + "\n")
    assert [o["lang"] for o in out] == ["fr", "pt", "de", "es", "en"]


def test_help_shows_the_measured_accuracy() -> None:
    result = CliRunner().invoke(classify, ["--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    acc = load_accuracy()
    for name in ("sentiment", "intent"):
        figure = acc.figures[name]
        assert f"{figure.metric} {figure.value:.2f}" in text
    assert "'unsupported'" in text
