"""The dashboard's query preview shows a Bluesky repost (no text of its own)
as what it reposted, as the ``hubbub search`` table does: its ``text`` is
"↻ LABEL reposted ORIGINAL_AUTHOR: TEXT", ``repost_of`` names the original.
Real recorded Jetstream events imported by the real CLI into a real server's
store."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_data_commands import hubbub
from tests.cli.test_search_reposts import chat_post_and_its_repost
from tests.conftest import require_shared_data
from tests.jetstream_authors import DID, SHORT, write_jsonl
from tests.web.conftest import start_server, stop_server
from tests.web.test_listen_api import signed_in


def test_preview_shows_a_repost_by_its_original(tmp_path: Path) -> None:
    require_shared_data()
    chat, repost = chat_post_and_its_repost()
    server = start_server(tmp_path)
    try:
        done = hubbub(
            "import", "--db", str(server.db), write_jsonl(tmp_path / "r.jsonl", [chat, repost])
        )
        assert done.returncode == 0, done.stderr
        client, _token = signed_in(server)
        try:
            r = client.get("/api/listen/preview", params={"q": "is:repost"})
        finally:
            client.close()
        assert r.status_code == 200, r.text
        (post,) = r.json()["posts"]
        text = " ".join(chat["commit"]["record"]["text"].split())
        assert post["repost_of"] == f"at://{DID}/app.bsky.feed.post/{chat['commit']['rkey']}"
        shown = " ".join(post["text"].split())
        assert shown.startswith(f"↻ {repost['did'][:16]}… reposted {SHORT}: ")
        assert shown.split(": ", 1)[1] == text
    finally:
        stop_server(server)
