"""The projector's spam flag reads what the room shows for a repost.

A Bluesky repost or Mastodon reblog has no text, and the room shows it by
its original: the flag read the repost's own (empty) text, so a spam post
reposted reached the projector unflagged. Both the page's JSON and the live
stream's message are checked, with the original stored and not.
"""

from __future__ import annotations

import dataclasses

from hubbub.chat.moderation import is_spam
from hubbub.web.hub import live_message
from hubbub.web.rooms import Room
from hubbub.web.routes_chat import chat_post_json
from tests.web.conftest import make_post

TAG = "spamrepost"
SPAM = "FREE followers!!! Click http://spam.example/win for a $500 gift card #giveaway #win"


def test_a_repost_of_spam_is_flagged_as_its_original() -> None:
    assert is_spam(SPAM)
    original = make_post(TAG, SPAM, network="bluesky", handle="spammer.example.com")
    other = make_post("unused", "x", network="bluesky", handle="friend.bsky.social")
    repost = dataclasses.replace(other, text="", hashtags=(), repost_of=original.id)
    room = Room(None, TAG)
    originals = {(original.network, original.id): original}
    assert chat_post_json(repost, room, originals=originals)["spam"] is True
    assert live_message(repost, room, None, originals=originals)["spam"] is True
    # Not stored: nothing to show but the repost itself, which says nothing.
    assert chat_post_json(repost, room, originals={})["spam"] is False
    # A deleted original is not shown, so its words do not count either.
    gone = {(original.network, original.id): dataclasses.replace(original, deleted=True)}
    assert live_message(repost, room, None, originals=gone)["spam"] is False


def test_a_plain_post_is_flagged_by_its_own_text() -> None:
    room = Room(None, TAG)
    assert chat_post_json(make_post(TAG, SPAM), room)["spam"] is True
    assert (
        live_message(make_post(TAG, "a fine question about the chat"), room, None)["spam"] is False
    )
