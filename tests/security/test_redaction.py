"""``redact``: error texts (health lines, network errors, check results) never
show a credential, whatever shape it comes in, and never carry terminal
controls. Property tests over many shapes, and the reviewer's examples."""

from __future__ import annotations

import string
import unicodedata

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from hubbub.sources.base import describe_error, redact

# Tokens as networks issue them: letters, digits and a few punctuation marks.
TOKEN_ALPHABET = string.ascii_letters + string.digits + "-_.~+/"
secrets_ = st.text(TOKEN_ALPHABET, min_size=8, max_size=60)
# A password may hold anything printable but quotes and backslashes (which its
# encoder would escape: an unescaped one would end the quoted value).
passwords = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), min_size=8
).filter(lambda s: s.strip() == s and not any(q in s for q in "\\\"'"))

NAMES = [
    "token",
    "access_token",
    "refresh_token",
    "oauth_token",
    "accessJwt",
    "refreshJwt",
    "secret",
    "client_secret",
    "password",
    "app_password",
    "appPassword",
    "passwd",
    "api_key",
    "apiKey",
    "x-api-key",
    "Authorization",
    "authorization",
    "PASSWORD",
]
names = st.sampled_from(NAMES)

# Every shape puts the secret {s} next to a credential name {n}.
SHAPES = [
    '{{"{n}": "{s}"}}',  # JSON
    '{{"{n}":"{s}","other":1}}',
    "{{'{n}': '{s}'}}",  # a Python dict's repr
    '{{\\"{n}\\": \\"{s}\\"}}',  # JSON quoted inside JSON
    "{n}={s}",  # a form body, a query string
    "identifier=me&{n}={s}&x=1",
    "https://api.example/2/users?{n}={s}",
    "{n}: {s}",  # a header, a log line
    "{n}: Bearer {s}",
    '{n}="{s}"',  # a keyword argument's repr
    "{n}='{s}'",
]
shapes = st.sampled_from(SHAPES)
# Text around it: anything, including controls and quotes.
around = st.text(max_size=40)


@settings(max_examples=400)
@given(shape=shapes, name=names, secret=secrets_, before=around, after=around)
@example(
    shape="{n}: Bearer {s}",
    name="Authorization",
    secret="abc123xyz",  # noqa: S106 - the reviewer's example, not a credential
    before="",
    after="",
)
def test_a_named_secret_never_shows(
    shape: str, name: str, secret: str, before: str, after: str
) -> None:
    text = before + " " + shape.format(n=name, s=secret) + " " + after
    # Only the secret itself is under test: not text that happens to hold it.
    assume(secret not in before + shape.format(n=name, s="") + after)
    if shape.startswith("{n}: ") and name.lower() != "authorization":
        # Unquoted "name: word" is read as prose when the word is short and
        # letters only ("the token: rules: HTTP 401"); no token looks like that.
        assume(not (secret.isalpha() and len(secret) < 12))
    out = redact(text, 10_000)
    assert secret not in out


@settings(max_examples=200)
@given(name=st.sampled_from(["password", "app_password", "secret"]), password=passwords)
def test_a_quoted_password_with_spaces_never_shows(name: str, password: str) -> None:
    for text in (f'{{"{name}": "{password}"}}', f"{name}='{password}'"):
        assume(password not in text.replace(password, ""))
        assert password not in redact(text, 10_000)


@settings(max_examples=300)
@given(secret=secrets_, scheme=st.sampled_from(["Bearer", "bearer", "BEARER"]), before=around)
def test_a_bearer_token_in_prose_never_shows(secret: str, scheme: str, before: str) -> None:
    assume(secret not in before)
    assert secret not in redact(f"{before} bad token {scheme} {secret}", 10_000)


# Any secret a user could paste: visible characters (a secret of controls or
# spaces would be rewritten by the cleaning anyway), not the mask's '*' nor
# the cleaning's U+FFFD (which could spell it again after masking).
any_secret = st.text(
    st.characters(
        exclude_categories=("Cc", "Cs", "Cf", "Co", "Cn", "Zs", "Zl", "Zp"),
        exclude_characters="*\ufffd",
    ),
    min_size=4,
    max_size=40,
)


@settings(max_examples=300)
@given(secret=any_secret, text=st.lists(around))
def test_the_known_secret_never_shows_wherever_it_is(secret: str, text: list[str]) -> None:
    """With the account's secret in hand, any occurrence is masked: raw, in
    any text, even with no name next to it."""
    message = secret.join(text) + secret
    out = redact(message, 100_000, known=[secret])
    assert secret not in out


@given(text=st.text(), limit=st.integers(20, 400))
def test_the_result_is_one_short_terminal_safe_line(text: str, limit: int) -> None:
    out = redact(text, limit)
    assert len(out) <= limit
    assert not any(ch in out for ch in "\n\r\t\u202e\u2066\u2028")
    assert not any(unicodedata.category(ch) in ("Cc", "Cs") for ch in out)


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("Authorization: Bearer abc123", "abc123"),
        ('{"access_token": "x-token-value"}', "x-token-value"),
        ('password="hunter2"', "hunter2"),
        ("refused the token 401: bad token Bearer tok-SECRET-123456", "tok-SECRET-123456"),
        ("{'refreshJwt': 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl'}", "eyJhbGci"),
        ("session eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl ended", "eyJhbGci"),
        ("redis://user:pa55word@127.0.0.1:6379/0", "pa55word"),
        ("Cookie: sid=abc; csrftoken=def", "sid=abc"),
    ],
)
def test_the_reviewers_examples(text: str, hidden: str) -> None:
    out = redact(text)
    assert hidden not in out
    assert "***" in out


@pytest.mark.parametrize(
    "text",
    [
        "users/me: HTTP 401 (Unauthorized)",
        "the token was refused",
        "X refused the token: rules: HTTP 401 (Unauthorized)",
        "X refused the token: users/me: HTTP 401",
        "401 ExpiredToken: Token has expired",
        "login refused: 401 AuthenticationRequired: Invalid identifier or password",
    ],
)
def test_what_is_not_a_secret_stays_readable(text: str) -> None:
    assert redact(text) == text


def test_escape_codes_are_replaced_visibly() -> None:
    assert redact("HTTP 401 (\x1b]0;PWN\x07)") == "HTTP 401 (\ufffd]0;PWN\ufffd)"


def test_describe_error_masks_the_accounts_secret() -> None:
    error = RuntimeError("server said: you sent tok-SECRET-123456, which is wrong")
    out = describe_error(error, known=["tok-SECRET-123456"])
    assert out == "RuntimeError: server said: you sent ***, which is wrong"


def test_a_secret_is_masked_before_the_text_is_cut() -> None:
    secret = "s3cr3t-" * 10
    out = redact("x" * 280 + secret, 300, known=[secret])
    assert "s3cr3t" not in out
