"""The stored position of ``bluesky:jetstream``: a time always, a v2 seq sometimes.

Two cursors exist on the wire and only one of them travels:

- a **time** (``time_us``, unix microseconds of the last event processed) is
  valid on every instance and on both protocols (a v2 server reads a cursor
  of 10^15 or more as a time), so it is what failover resumes from;
- a Jetstream v2 **seq** is exact (no rewind needed) but belongs to the one
  instance that assigned it: on another instance the same number names
  another event.

So the stored text says which it is. A v1 position is stored as before,
plain ``time_us`` digits (what Hubbub stored before v2 was spoken, and still
read the same way); a v2 position is a JSON object with the protocol, the
seq, the instance that issued it and the time beside it::

    {"protocol":"jetstream-v2","seq":123,"instance":"wss://host","time_us":1725911162329308}

Anything else (a damaged row) is not guessed at: it reads as no cursor.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

PROTOCOL_V2 = "jetstream-v2"
_MAX_TEXT = 4096


@dataclass(frozen=True, slots=True)
class JetstreamCursor:
    time_us: int  # the largest event time processed: valid everywhere
    seq: int | None = None  # the v2 seq of the last event processed on ``instance``
    instance: str | None = None  # the instance that issued ``seq``

    def dump(self) -> str:
        if self.seq is None or self.instance is None:
            return str(self.time_us)
        value = {
            "protocol": PROTOCOL_V2,
            "seq": self.seq,
            "instance": self.instance,
            "time_us": self.time_us,
        }
        return orjson.dumps(value).decode()

    @classmethod
    def load(cls, text: str | None) -> JetstreamCursor | None:
        if not text or len(text) > _MAX_TEXT:
            return None
        if text.isascii() and text.isdigit():
            return cls(int(text))
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(value, dict) or value.get("protocol") != PROTOCOL_V2:
            return None
        seq, time_us = _count(value.get("seq")), _count(value.get("time_us"))
        instance = value.get("instance")
        if time_us is None or seq is None or not isinstance(instance, str):
            return None
        return cls(time_us, seq, instance)


def _count(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None
