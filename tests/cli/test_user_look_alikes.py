"""A new user name may not read the same as an existing one in the workspace.

``user create Ann`` and ``user create ａｎｎ`` (full-width) succeeded beside
``ann``, and the page header showed "ａｎｎ": one account could pass for
another. A name whose NFKC case-folded form (invisible format characters
dropped) equals an existing user's is refused, naming that user. Sign-in
still matches names exactly, so two accounts of a database made before the
rule that differ only in case each keep signing in as themselves.
SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner, Result

from hubbub.cli import main
from hubbub.store import open_store
from hubbub.store.scope import scope
from hubbub.store.users_repo import look_alike_key
from hubbub.store.web_schema import users
from hubbub.web.accounts import AccountError, authenticate, create_user

PASSWORD = "correct horse battery"  # noqa: S105 - a test account


def create(db: str, name: str, workspace: str = "default") -> Result:
    return CliRunner().invoke(
        main,
        ["user", "create", name, "--password-stdin", "--db", db, "--workspace", workspace],
        input=PASSWORD + "\n",
    )


def _listed(db: str) -> list[str]:
    with open_store(db) as store, store.engine.connect() as conn:
        return sorted(conn.execute(users.select().with_only_columns(users.c.name)).scalars())


@pytest.mark.parametrize(
    "name",
    [
        "Ann",
        "ANN",
        "ａｎｎ",  # full-width
        "Ａｎｎ",
        "an\u200bn",  # a zero-width space inside
        "ann\u00ad",  # a soft hyphen at the end
        "\u202aann",  # a bidi embedding mark
    ],
)
def test_a_look_alike_of_an_existing_user_is_refused(db_url: str, name: str) -> None:
    assert create(db_url, "ann").exit_code == 0
    done = create(db_url, name)
    assert done.exit_code == 1
    line = done.output.strip().splitlines()[-1]
    assert "would look like existing user 'ann'" in line
    assert _listed(db_url) == ["ann"]


def test_other_names_and_other_workspaces_are_fine(db_url: str) -> None:
    assert create(db_url, "ann").exit_code == 0
    assert create(db_url, "anna").exit_code == 0
    assert create(db_url, "Ann", workspace="acme").exit_code == 0  # names are per workspace
    done = create(db_url, "ann")
    assert done.exit_code == 1 and "user 'ann' already exists" in done.output


def test_accounts_made_before_the_rule_still_sign_in_exactly(db_url: str) -> None:
    with open_store(db_url) as store:
        ann = create_user(store, "default", "ann", PASSWORD)
        # A database from before the rule: "Ann" was made beside "ann".
        with store.engine.begin() as conn:
            stored_hash = conn.execute(
                users.select().with_only_columns(users.c.password_hash)
            ).scalar_one()
            big_ann = conn.execute(
                users.insert().values(
                    **scope(store, "default").values(),
                    name="Ann",
                    password_hash=stored_hash,
                    role="viewer",
                    created_at=datetime.now(UTC),
                )
            ).inserted_primary_key[0]
        signed_in = authenticate(store, "default", "ann", PASSWORD)
        assert signed_in is not None and signed_in.id == ann.id
        signed_in = authenticate(store, "default", "Ann", PASSWORD)
        assert signed_in is not None and signed_in.id == big_ann
        # Case is not folded at sign-in: no account is called "ANN".
        assert authenticate(store, "default", "ANN", PASSWORD) is None
        # A third look-alike is refused, naming the first of them.
        with pytest.raises(AccountError, match="existing user 'ann'"):
            create_user(store, "default", "ａｎｎ", PASSWORD)


def test_the_key_folds_width_case_and_invisible_marks() -> None:
    assert look_alike_key("Ａｎｎ") == look_alike_key("ann") == look_alike_key("a\u200bnn")
    assert look_alike_key("Straße") == look_alike_key("STRASSE")
    assert look_alike_key("ann") != look_alike_key("anna")
