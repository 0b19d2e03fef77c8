"""How each network counts a text: one definition for the server, the outbox
and (through the JSON API) the browser's compose counter.

``count_text(text, networks)`` gives each network's length, limit and whether
the network would accept the text; the Bluesky result also carries the facets
(links, mentions, hashtags at UTF-8 byte offsets) a post needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from hubbub.counting import bluesky, mastodon, x
from hubbub.counting.mastodon import MastodonLimits

NETWORKS = ("x", "bluesky", "mastodon")


@dataclass(slots=True, frozen=True)
class NetworkCount:
    network: str
    length: int
    limit: int
    ok: bool
    facets: tuple[bluesky.Facet, ...] = ()

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"length": self.length, "limit": self.limit, "ok": self.ok}
        if self.network == "bluesky":
            out["facets"] = [
                {"type": f.kind, "byteStart": f.byte_start, "byteEnd": f.byte_end, "value": f.value}
                for f in self.facets
            ]
        return out


def count_text(
    text: str,
    networks: tuple[str, ...] = NETWORKS,
    mastodon_limits: MastodonLimits | None = None,
) -> dict[str, NetworkCount]:
    """Each named network's count of ``text``, in the order given."""
    result: dict[str, NetworkCount] = {}
    for network in networks:
        if network == "x":
            xc = x.count(text)
            result[network] = NetworkCount(network, xc.length, xc.limit, xc.ok)
        elif network == "bluesky":
            bc = bluesky.count(text)
            result[network] = NetworkCount(network, bc.length, bc.limit, bc.ok, bc.facets)
        elif network == "mastodon":
            mc = mastodon.count(text, mastodon_limits)
            result[network] = NetworkCount(network, mc.length, mc.limit, mc.ok)
        else:
            raise ValueError(f"unknown network {network!r} (expected one of {', '.join(NETWORKS)})")
    return result


__all__ = ["NETWORKS", "MastodonLimits", "NetworkCount", "count_text"]
