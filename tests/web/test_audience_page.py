"""The audience audit page over HTTP and in Chromium: viewers read it,
anonymous readers are sent to sign in, another workspace's account is 404;
the page and ``hubbub audience audit`` agree on the same snapshot; the
browser opens the audit, filters and sorts the list and exports the CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from playwright.sync_api import expect

from hubbub.cli import main
from hubbub.store import open_store
from hubbub.web.accounts import create_user
from tests.audience import audience_data as data
from tests.web.conftest import PASSWORD, Server, http_client, login, start_server, stop_server

pytestmark = pytest.mark.browser


def _with_routes(server: Server) -> None:
    # create_app registers the router; kept so this test also runs on a
    # checkout where app.py predates it.
    from hubbub.web import routes_audience

    app = server.app
    if not any(getattr(r, "path", "") == "/audience/{account}" for r in app.routes):  # type: ignore[attr-defined]
        app.include_router(routes_audience.router)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def aserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("audience"))
    _with_routes(srv)
    with open_store(str(srv.db)) as store:  # type: ignore[attr-defined]
        create_user(store, "default", "viewer1", PASSWORD, role="viewer")
        data.load(store)
        data.load(store, "other")  # the same account name in another workspace
        data.snapshot(store, "other", ["f1"])
    yield srv
    stop_server(srv)


@contextmanager
def _signed_in(server: Server, name: str = "viewer1"):  # noqa: ANN202
    with http_client(server) as client:
        _login(client, server, name)
        yield client


def _login(client, server: Server, name: str) -> None:  # noqa: ANN001
    page = client.get("/login")
    token = page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    r = client.post(
        "/login",
        data={"name": name, "password": PASSWORD, "csrf": token, "next": "/"},
        headers={"Origin": server.url},
    )
    assert r.status_code in (200, 303), r.text


def test_roles_and_isolation_over_http(aserver: Server) -> None:
    with http_client(aserver) as anon:
        r = anon.get("/audience/brand-x")
        assert r.status_code == 303 and "/login" in r.headers["location"]
        assert anon.get("/audience/brand-x/followers.csv").status_code == 401
    with _signed_in(aserver) as viewer:
        _viewer_reads(viewer)


def _viewer_reads(viewer) -> None:  # noqa: ANN001
    r = viewer.get("/audience")
    assert r.status_code == 200 and "brand-x" in r.text
    r = viewer.get("/audience/brand-x")
    assert r.status_code == 200 and "@f1" in r.text
    # Not an account of this workspace (or none at all): 404, never 403.
    assert viewer.get("/audience/nobody").status_code == 404
    assert viewer.get("/audience/nobody/followers.csv").status_code == 404
    assert viewer.get("/audience/brand-x?window=5y").status_code == 400
    # Hostile query parameters fall back to the defaults.
    assert viewer.get("/audience/brand-x?show=<x>&sort=;drop").status_code == 200


def test_page_and_cli_agree(aserver: Server) -> None:
    with _signed_in(aserver) as viewer:
        html = viewer.get("/audience/brand-x").text
        served_csv = viewer.get("/audience/brand-x/followers.csv").text
    result = CliRunner().invoke(main, ["audience", "audit", "brand-x", "--db", str(aserver.db)])  # type: ignore[attr-defined]
    assert result.exit_code == 0, result.stderr
    totals = orjson.loads(result.stdout)["totals"]
    for key in ("followers", "engaged", "active", "passive", "suspicious"):
        cell = html.split(f'data-total="{key}">', 1)[1].split("<", 1)[0]
        assert int(cell.replace(",", "")) == totals[key], key
    cli_csv = (
        CliRunner()
        .invoke(
            main,
            ["audience", "audit", "brand-x", "--format", "csv", "--db", str(aserver.db)],  # type: ignore[attr-defined]
        )
        .stdout
    )
    assert served_csv == cli_csv


def test_browser_opens_filters_sorts_and_exports(browser, aserver: Server, tmp_path: Path) -> None:  # noqa: ANN001
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    try:
        login(page, aserver.url, name="viewer1")
        page.goto(aserver.url + "/audience")
        page.click("text=brand-x")
        expect(page.locator("[data-total=followers]")).to_have_text("8")
        expect(page.locator(".audience-accuracy")).to_contain_text("F1")
        expect(page.locator("tr.follower")).to_have_count(8)
        # Filter: the suspicious only.
        page.click("a.show-suspicious")
        expect(page.locator("tr.follower")).to_have_count(2)
        flags = page.locator("tr.follower").evaluate_all(
            "rows => rows.map(r => r.dataset.suspicious)"
        )
        assert flags == ["true", "true"]
        expect(page.locator("tr.follower .reasons").first).to_contain_text(
            "default profile picture"
        )
        # Back to all, sorted by handle.
        page.click("a.show-all")
        page.click("a.sort-handle")
        handles = page.locator("tr.follower").evaluate_all(
            "rows => rows.map(r => r.dataset.handle)"
        )
        assert handles == sorted(data.EXPECTED)
        page.click("a.sort-interactions")
        first = page.locator("tr.follower").first.get_attribute("data-handle")
        assert first in {"f1", "f4"}  # two interactions each (one with an answer counted)
        with page.expect_download() as info:
            page.click("a.export-csv")
        path = tmp_path / "export.csv"
        info.value.save_as(path)
        rows = list(csv.DictReader(io.StringIO(path.read_text())))
        assert [r["handle"] for r in rows] == list(data.EXPECTED)
        assert {r["handle"]: r["class"] for r in rows} == {
            h: e[0] for h, e in data.EXPECTED.items()
        }
        # No CSP violation or script error; the browser's own favicon request
        # (404, reported without a response event) is not the page's.
        assert missing == []
        assert [e for e in errors if not e.startswith("Failed to load resource")] == []
    finally:
        context.close()


def test_the_accuracy_shown_is_that_of_the_model_that_scored(aserver: Server) -> None:
    """Bluesky and Mastodon followers are scored by the cross-network model; the
    page showed the X model's F1 (and its X-only precision) for them too."""
    from hubbub.audience.bot_model import accuracy
    from hubbub.store.audience_repo import AudienceRepo
    from hubbub.store.scope import scope

    with open_store(str(aserver.db)) as store:  # type: ignore[attr-defined]
        repo = AudienceRepo(scope(store, "default"))
        snap = repo.open_snapshot("brand-b", "bluesky", "followers", "did:plc:b", "b.example")
        repo.save_page(snap.id, [data.member("b1", True)], None)
        repo.finish(snap.id, "done")
    with _signed_in(aserver) as viewer:
        on_x = viewer.get("/audience/brand-x").text
        on_bluesky = viewer.get("/audience/brand-b").text
    figures = accuracy()
    x_f1, cross_f1 = figures["f1_suspicious"], figures["cross_network_f1_suspicious"]
    assert x_f1 != cross_f1
    assert f"F1 {x_f1}" in on_x and "cross-network model" not in on_x
    assert f"F1 {cross_f1}" in on_bluesky and f"F1 {x_f1}" not in on_bluesky
    assert "not been checked on Bluesky profiles" in on_bluesky
