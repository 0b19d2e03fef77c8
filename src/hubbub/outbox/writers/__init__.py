"""One writer per network: turns an outbox action into that network's write
requests, and says what happened (``hubbub.outbox.outcome``).

Writers hold no state that matters across a crash: everything that must
survive is in the outbox row (its idempotency key above all).
"""
