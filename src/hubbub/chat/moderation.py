"""What the projector leaves out: posts the spam classifier flags.

The big screen in a conference room shows what a host cannot take back, so
it hides likely spam outright; readers' own pages still show it (a false
positive there costs nothing). The score is the classifier's language-neutral
spam likelihood (links, tag stuffing, cashtags, money, promo words), cheap
enough (tens of microseconds) to compute once per live post.
"""

from __future__ import annotations

from hubbub.classify import rules

# The classifier's own cut-off (docs/classifiers.md evaluates spam ≥ 0.5).
SPAM_THRESHOLD = 0.5


def is_spam(text: str) -> bool:
    return rules.spam_score(rules.prepare(text)) >= SPAM_THRESHOLD
