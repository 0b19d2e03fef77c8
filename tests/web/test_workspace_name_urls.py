"""Every character a new workspace's name may have survives its page address.

The rule for new workspace names (hubbub.store.workspace_names) exists so
that ``/w/NAME/rooms/TAG`` reaches the workspace's public room. A workspace
using each allowed kind of character (upper and lower case, digits, '-',
'_', '.') is made by the command line and its public room read anonymously
over real HTTP.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from hubbub.cli import main
from hubbub.settings import Settings
from tests.web.conftest import PASSWORD, Server, free_port, stop_server

WORKSPACE = "Acme-2.0_x"
TAG = "pubtag"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    import uvicorn

    from hubbub.web import create_app

    db = str(tmp_path / "hubbub.db")
    made = CliRunner().invoke(
        main,
        ["user", "create", "ann", "--password-stdin", "--db", db, "--workspace", WORKSPACE],
        input=PASSWORD + "\n",
    )
    assert made.exit_code == 0, made.output
    port = free_port()
    settings = Settings(db=db, host="127.0.0.1", port=port, secret_key=uuid.uuid4().hex)
    app = create_app(settings)
    uv = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=uv.run, name="hubbub-names-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    srv = Server(f"http://127.0.0.1:{port}", app, thread, uv, Path(db))
    yield srv
    stop_server(srv)


def _csrf(client: httpx.Client, path: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', client.get(path).text)
    assert found
    return found.group(1)


def test_a_public_room_of_a_slug_named_workspace_is_reachable(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=15) as owner:
        form = {"name": "ann", "password": PASSWORD, "csrf": _csrf(owner, "/login"), "next": "/"}
        form["workspace"] = WORKSPACE
        assert owner.post("/login", data=form).status_code == 303
        opened = owner.post(
            f"/api/rooms/{TAG}/open",
            json={"public": True},
            headers={"X-CSRF-Token": _csrf(owner, "/account")},
        )
        assert opened.status_code == 200, opened.text
    with httpx.Client(base_url=server.url, timeout=15) as anyone:
        page = anyone.get(f"/w/{WORKSPACE}/rooms/{TAG}")
        assert page.status_code == 200
        assert f'data-base="/w/{WORKSPACE}"' in page.text
        assert anyone.get(f"/w/{WORKSPACE}/api/rooms/{TAG}/posts").status_code == 200
