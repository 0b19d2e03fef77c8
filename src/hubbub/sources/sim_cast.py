"""The simulator's people and words: who takes part in a simulated chat and
what they say. Kept apart from ``sim`` (timing and network payloads) so the
script can grow without touching the wire formats.

Everything here is fixed data plus a ``random.Random(seed)``: the same seed
always casts the same host and guests.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

MASTODON_SERVER = "mastodon.social"  # the server the simulated stream is read from

_B32_SORTABLE = "234567abcdefghijklmnopqrstuvwxyz"


def digest_int(*parts: object) -> int:
    """A stable integer from ``parts`` (``hash()`` is salted per process)."""
    data = "\x1f".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.sha256(data).digest()[:8], "big")


def did_for(handle: str) -> str:
    """A did:plc-shaped identifier (24 base32 characters) derived from a handle."""
    value = digest_int("did", handle)
    value = (value << 64) | digest_int("did2", handle)
    chars = []
    for _ in range(24):
        chars.append("abcdefghijklmnopqrstuvwxyz234567"[value & 31])
        value >>= 5
    return "did:plc:" + "".join(chars)


@dataclass(frozen=True, slots=True)
class Persona:
    key: str
    name: str  # display name, the same on every network (cross-posts rely on it)
    networks: tuple[str, ...]  # where this person posts
    x_username: str
    bsky_handle: str
    masto_user: str
    masto_host: str
    lang: str = "en"
    bio: str = ""
    followers: int = 300

    @property
    def x_id(self) -> str:
        return str(10**17 + digest_int("x", self.key) % (9 * 10**17))

    @property
    def did(self) -> str:
        return did_for(self.bsky_handle)

    @property
    def masto_acct(self) -> str:
        """``acct`` as the stream server shows it: bare when local, else user@host."""
        if self.masto_host == MASTODON_SERVER:
            return self.masto_user
        return f"{self.masto_user}@{self.masto_host}"

    @property
    def masto_handle(self) -> str:
        """The handle hubbub's parser gives this account (always user@host)."""
        return f"{self.masto_user}@{self.masto_host}"

    @property
    def masto_account_id(self) -> str:
        return str(100000 + digest_int("acct", self.key) % 9_000_000)

    def handle_on(self, network: str) -> str:
        """The author handle a parsed Post carries for this person."""
        if network == "x":
            return self.x_username
        if network == "bluesky":
            return self.did  # Jetstream names authors only by DID
        return self.masto_handle


def _p(
    key: str,
    name: str,
    networks: str,
    *,
    x: str | None = None,
    bsky: str | None = None,
    masto: str | None = None,
    lang: str = "en",
    bio: str = "",
    followers: int = 300,
) -> Persona:
    user, _, host = (masto or f"{key}@{MASTODON_SERVER}").partition("@")
    return Persona(
        key=key,
        name=name,
        networks=tuple(networks.split()),
        x_username=x or key,
        bsky_handle=bsky or f"{key}.bsky.social",
        masto_user=user,
        masto_host=host or MASTODON_SERVER,
        lang=lang,
        bio=bio,
        followers=followers,
    )


ALL = "x bluesky mastodon"

HOST_POOL = (
    _p("mayachen", "Maya Chen", ALL, bio="Community lead. I host chats.", followers=12400),
    _p(
        "jordanellis",
        "Jordan Ellis",
        ALL,
        x="JordanEllisCX",
        bio="CX nerd, chat host",
        followers=8800,
    ),
    _p("priyaraman", "Priya Raman", ALL, masto="priya@hachyderm.io", followers=15100),
)
GUEST_POOL = (
    _p("tomasortega", "Tomás Ortega", ALL, masto="tomas@fosstodon.org", followers=5300),
    _p("gracekim", "Grace Kim", ALL, x="GraceKimSocial", followers=22000),
    _p("adeokafor", "Ade Okafor", ALL, bsky="ade.okafor.dev", followers=4100),
    _p("lenafischer", "Lena Fischer", ALL, masto="lena@chaos.social", followers=6900),
)

PARTICIPANTS = (
    _p("samrivera", "Sam Rivera", "x mastodon", x="samrivera_", masto="sam@hachyderm.io"),
    _p("noorhaddad", "Noor Haddad", "x bluesky", bsky="noor.haddad.bsky.social"),
    _p("kasianowak", "Kasia Nowak", "mastodon bluesky", masto="kasia@pol.social", lang="pl"),
    _p("benwright", "Ben Wright", "x"),
    _p("aliceng", "Alice Ng", "bluesky"),
    _p("ravipatel", "Ravi Patel", "x"),
    _p("emmadubois", "Emma Dubois", "mastodon", masto="emma@mastodon.social"),
    _p("chrislee", "Chris Lee", "x bluesky"),
    _p("fatimazahra", "Fatima Zahra", "bluesky"),
    _p("oliviabrown", "Olivia Brown", "x"),
    _p("jakubkowalski", "Jakub Kowalski", "x", x="jkowalski_pl"),
    _p("miguelsantos", "Miguel Santos", "mastodon", masto="miguel@social.coop"),
    _p("hannahmoore", "Hannah Moore", "bluesky"),
    _p("danpratt", "Dan Pratt", "x"),
    _p("yukitanaka", "Yuki Tanaka", "mastodon", masto="yuki@mstdn.jp"),
    _p("zoecarter", "Zoe Carter", "x bluesky"),
)
SPAMMER = _p("growth4u", "Growth Hacks 4U 🚀", "x", x="growth4u_2931", followers=12)
BRAND = _p("acmeair", "Acme Air", "x", x="AcmeAir", followers=250000)

# Fixed roles inside the crowd (keys into PARTICIPANTS).
CROSS_POSTER = "samrivera"  # posts the same text to X and Mastodon
POLISH = "kasianowak"
COMPLAINER = "danpratt"
SALES_ASKER = "oliviabrown"


@dataclass(frozen=True, slots=True)
class Cast:
    host: Persona
    guests: tuple[Persona, ...]
    crowd: tuple[Persona, ...]

    def by_key(self, key: str) -> Persona:
        for person in (self.host, *self.guests, *self.crowd, SPAMMER, BRAND):
            if person.key == key:
                return person
        raise KeyError(key)


def cast_for(seed: int) -> Cast:
    """Host and one or two guests picked by ``seed``; the crowd is fixed."""
    rng = random.Random(f"cast:{seed}")
    host = rng.choice(HOST_POOL)
    guests = tuple(rng.sample(GUEST_POOL, rng.choice((1, 2))))
    return Cast(host=host, guests=guests, crowd=PARTICIPANTS)


def sim_roles(tag: str, seed: int = 1) -> dict[str, list[str]]:
    """Author handles (as parsed Posts carry them) of the simulated chat's
    hosts and guests, for configuring a room. ``tag`` is accepted so a future
    simulator may cast per chat; today the cast depends on the seed only."""
    del tag
    cast = cast_for(seed)

    def handles(people: tuple[Persona, ...]) -> list[str]:
        found = [p.handle_on(n) for p in people for n in p.networks]
        # Bluesky posts carry the DID when parsed, the handle once the store
        # has seen the identity event the simulator sends first: list both.
        found += [p.bsky_handle for p in people if "bluesky" in p.networks]
        return found

    return {"hosts": handles((cast.host,)), "guests": handles(cast.guests)}


# --------------------------------------------------------------------------- words

QUESTIONS = (
    "What's one tool your community can't live without?",
    "How do you handle a complaint that starts going viral?",
    "What makes you reply to a brand's post instead of scrolling past?",
    "How do you measure whether a chat like this one worked?",
    "X, Bluesky, Mastodon: how do you split your time between networks?",
    "What's the best customer-care reply you have ever seen?",
    "How do you keep a hashtag chat welcoming to first-timers?",
    "What's one thing you'll try after today's chat?",
)

ANSWERS = (
    (
        "a shared inbox, so nobody answers the same person twice",
        "honestly a spreadsheet of regulars and what they care about",
        "scheduled posts plus a human watching the replies",
        "a saved search for our brand name misspelled 5 different ways",
        "a good FAQ doc we can link instead of retyping",
    ),
    (
        "reply fast, in public, then move the details to DMs",
        "own it first, explain later. Nobody wants a lawyer voice",
        "we pause every scheduled post until it is handled",
        "get the facts from the team before the third reply, not after",
        "thank the person. They told you before they told everyone else",
    ),
    (
        "when it sounds like a person wrote it",
        "a real question I actually know the answer to",
        "humour that doesn't punch down",
        "when they reply to others, not just broadcast",
    ),
    (
        "new voices who come back next week",
        "replies between participants, not just to the host",
        "fewer 'great chat!' posts, more actual answers",
        "how many people followed each other afterwards",
    ),
    (
        "X for reach, Mastodon for depth, Bluesky for the fun",
        "I follow the people, not the network",
        "mostly Mastodon now, X only for chats like this",
        "cross-post the important stuff, stay native for the rest",
    ),
    (
        "an airline that answered at 3am with an actual fix",
        "a bakery that replied to a 1-star review with a free croissant and an apology",
        "support that said 'we got this wrong' in the first sentence",
        "a reply that linked the exact doc paragraph. Bliss",
    ),
    (
        "the host greets every first post by name",
        "pin the rules and the question schedule",
        "say out loud that lurking is fine",
        "answer the newcomers first",
    ),
    (
        "a shared inbox trial with the team",
        "asking one question per week in public",
        "muting the engagement-bait accounts",
        "threading my own chat posts so followers don't drown",
    ),
)

POLISH_ANSWERS = (
    "u nas wspólna skrzynka dla całego zespołu, działa świetnie",
    "najważniejsza jest szybka odpowiedź, nawet krótka",
    "zgadzam się, liczy się ton, a nie szablon",
    "mierzymy, ile osób wraca na kolejny czat",
    "dużo Mastodona, trochę Bluesky, X tylko na czaty",
    "najlepsza odpowiedź? Przeprosiny w pierwszym zdaniu",
    "witamy każdego nowego uczestnika po imieniu",
    "spróbuję wątkować swoje posty",
)

OPENERS = (
    "",
    "",
    "",
    "For us: ",
    "Easy one: ",
    "Hmm. ",
    "Honestly, ",
    "Big one. ",
    "+1 to others: ",
)
CLOSERS = (
    "",
    "",
    "",
    " 🙌",
    " 💯",
    " (learned the hard way)",
    " 😅",
    "!",
    " Curious what others think.",
)

CHIT_CHAT = (
    "Hello from Toronto, first time joining!",
    "Late to the party, catching up on the questions now",
    "Lurking today with a coffee ☕",
    "This chat moves fast, love it",
    "Good to see so many familiar faces here",
    "Can't believe it's already Q time",
)
POLISH_CHIT_CHAT = (
    "Pozdrowienia z Krakowa! Pierwszy raz na tym czacie",
    "Dzień dobry wszystkim, czytam i się uczę",
)

SIDE_REPLIES = (
    "totally agree, we did the same last year",
    "ooh, how did your team react to that?",
    "this! Stealing it",
    "not sure it scales past 10 people though",
    "we tried that, it worked until the holidays 😂",
    "do you have a write-up somewhere?",
)
POLISH_SIDE_REPLIES = ("dokładnie tak!", "ciekawe, jak to wyszło w praktyce?")

HOST_REACTIONS = (
    "Love this answer",
    "Great point, thanks for sharing",
    "Yes! This is the way",
    "Such a good one",
)

GUEST_ANSWERS = (
    "Two things: speed and ownership. Everything else is detail",
    "I'd start smaller than you think. One channel, done well",
    "Write it down. The playbook matters more than the tool",
    "Listen first. Half of the answers are already in your mentions",
)

COMPLAINTS = (
    "3 hours on hold and my refund still hasn't arrived. Not a great look",
    "lost my bag AGAIN and the chat bot keeps closing my ticket",
)
SALES_QUESTIONS = (
    "Anyone using Flowdesk for a shared social inbox? Need pricing for a 12-person team. Is there a demo?",
    "Which tool do you use for hashtag chats across networks? Looking to buy for our agency, budget approved",
)
SPAM_TEXTS = (
    "🔥 Get 10K real followers in 24h!!! Limited offer",
    "💸 Earn $500/day from your phone, DM me NOW",
)
CW_TEXTS = (
    (
        "work stress",
        "Q time made me think about the night our outage trended. I did not sleep for two days",
    ),
    ("politics", "Our best chat ever was during the elections and it got heated fast"),
)
SENSITIVE_TEXTS = ("Graphic photo from the accident our support team handled, viewer discretion",)

APPS = ("Web", "Ivory", "Tusky", "Elk", "Ice Cubes", "Mona")


def tid(micros: int, clock_id: int) -> str:
    """An atproto TID: 64-bit (microseconds << 10 | clock id) in sortable base32."""
    value = (micros << 10) | (clock_id & 0x3FF)
    chars = []
    for _ in range(13):
        chars.append(_B32_SORTABLE[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def cid_for(*parts: object) -> str:
    """A CIDv1-shaped string (``bafyrei`` + base32 sha256), stable for ``parts``."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    value = int.from_bytes(digest, "big")
    chars = []
    for _ in range(52):
        chars.append(alphabet[value & 31])
        value >>= 5
    return "bafyrei" + "".join(chars)
