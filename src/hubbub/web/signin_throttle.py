"""Sign-in throttling per account and per client address.

Password guessing costs the guesser nothing and the server an argon2 hash
(~0.2 s of CPU), so the throttle is asked *before* any password is checked
and a refused attempt costs only a dictionary lookup. Nobody is made to wait
on the server (no sleeping): a refusal is an immediate 429 whose
``Retry-After`` says when to come back.

For each key (an account name, a client address):

- failures are counted over a window (15 minutes); reaching the limit (5 for
  an account, 20 for an address) locks the key;
- every attempt while locked counts as one more failure and doubles the wait
  (1 s, 2 s, 4 s, …), so hammering only makes ``Retry-After`` grow;
- a lock never outlasts the window from the moment it began: then the key
  starts afresh. That is the most an attacker can delay the real owner of an
  account, however many guesses they send;
- a browser the owner has signed in with before carries a device token
  (``routes_account``): its attempts are counted under that device, not the
  account, so guessing from elsewhere does not lock the owner out of their own
  browser at all (the address limit still applies).
- IPv6 addresses are counted per /64, the block one subscriber usually holds.

State is in memory, per process, bounded in size; attempts are reserved while
their password is being checked, so a burst of parallel guesses cannot slip
past the limit before the first of them is counted.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from hubbub.web.client_address import address_block

WINDOW_SECONDS = 15 * 60.0
ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
FIRST_DELAY_SECONDS = 1.0
# Parallel attempts refused while others for the same key are being checked
# are told to come back after this long (they are not counted as failures).
BUSY_RETRY_SECONDS = 1.0


@dataclass(slots=True)
class _KeyState:
    failures: deque[float]
    lock_start: float | None = None
    locked_until: float = 0.0
    in_flight: int = 0

    def refresh(self, now: float, window: float) -> None:
        if self.lock_start is not None and now >= self.lock_start + window:
            self.failures.clear()
            self.lock_start = None
            self.locked_until = 0.0
        while self.failures and self.failures[0] <= now - window:
            self.failures.popleft()

    def wait(self, now: float) -> float:
        return self.locked_until - now if self.lock_start is not None else 0.0

    def fail(self, now: float, limit: int, window: float, first_delay: float) -> None:
        self.failures.append(now)
        count = len(self.failures)
        if count < limit:
            return
        if self.lock_start is None:
            self.lock_start = now
        # Capped exponent: the wait is capped by the window anyway.
        delay = first_delay * 2.0 ** min(count - limit, 40)
        self.locked_until = min(self.lock_start + window, max(self.locked_until, now + delay))

    def idle(self) -> bool:
        return not self.failures and self.lock_start is None and self.in_flight == 0


@dataclass(slots=True, frozen=True)
class Refused:
    """Come back in ``retry_after`` whole seconds."""

    retry_after: int


@dataclass(slots=True)
class Attempt:
    """A sign-in allowed to check its password; report how it went."""

    throttle: SigninThrottle
    account: str
    address: str
    done: bool = field(default=False)

    def succeeded(self) -> None:
        self.throttle._finish(self, success=True)

    def failed(self) -> None:
        self.throttle._finish(self, success=False)

    def abandoned(self) -> None:
        """The check itself broke (not the user's fault): counts as nothing."""
        self.throttle._finish(self, success=None)


class SigninThrottle:
    def __init__(
        self,
        *,
        account_limit: int = ACCOUNT_LIMIT,
        address_limit: int = ADDRESS_LIMIT,
        window: float = WINDOW_SECONDS,
        first_delay: float = FIRST_DELAY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 50_000,
    ) -> None:
        self.account_limit = account_limit
        self.address_limit = address_limit
        self.window = window
        self.first_delay = first_delay
        self.clock = clock
        self.max_keys = max_keys
        self._keys: OrderedDict[str, _KeyState] = OrderedDict()
        self._lock = threading.Lock()

    def begin(self, account: str, address: str, device: str | None = None) -> Attempt | Refused:
        """Ask before checking a password: an Attempt to report on, or a
        refusal. ``device``: the id of a device token issued for ``account``."""
        now = self.clock()
        first = "device:" + device if device else self._account_key(account)
        keys = ((first, self.account_limit), (_address_key(address), self.address_limit))
        with self._lock:
            states = [(self._state(key, now), limit) for key, limit in keys]
            locked = [(s, limit) for s, limit in states if s.wait(now) > 0]
            if locked:
                for state, limit in locked:
                    state.fail(now, limit, self.window, self.first_delay)
                return Refused(_whole_seconds(max(s.wait(now) for s, _ in locked)))
            # Others for this key are being checked now and could reach the
            # limit: this one waits for their verdict.
            if any(s.in_flight and len(s.failures) + s.in_flight >= limit for s, limit in states):
                return Refused(_whole_seconds(BUSY_RETRY_SECONDS))
            for state, _limit in states:
                state.in_flight += 1
        return Attempt(self, keys[0][0], keys[1][0])

    def _finish(self, attempt: Attempt, *, success: bool | None) -> None:
        if attempt.done:
            return
        attempt.done = True
        now = self.clock()
        with self._lock:
            for key, limit in (
                (attempt.account, self.account_limit),
                (attempt.address, self.address_limit),
            ):
                state = self._state(key, now)
                state.in_flight = max(0, state.in_flight - 1)
                if success is False:
                    state.fail(now, limit, self.window, self.first_delay)
            if success:
                # The owner got in: their account's (or device's) count starts
                # afresh. The address keeps its count, or signing in to one's
                # own account would reset the limit on guessing others'.
                account = self._keys.get(attempt.account)
                if account is not None and account.lock_start is None:
                    account.failures.clear()

    @staticmethod
    def _account_key(account: str) -> str:
        return "user:" + account.strip()[:200]

    def _state(self, key: str, now: float) -> _KeyState:
        state = self._keys.get(key)
        if state is None:
            if len(self._keys) >= self.max_keys:
                self._evict(now)
            # Failures past the limit + 16 change nothing: 2**16 s is beyond any window.
            state = _KeyState(deque(maxlen=max(self.account_limit, self.address_limit) + 16))
            self._keys[key] = state
        else:
            self._keys.move_to_end(key)
        state.refresh(now, self.window)
        return state

    def _evict(self, now: float) -> None:
        # First whatever has nothing left to remember, then the least recently
        # used: memory stays bounded however many names or addresses are tried.
        for key in list(self._keys):
            state = self._keys[key]
            state.refresh(now, self.window)
            if state.idle():
                del self._keys[key]
        # Make room for a tenth more at once, so a flood of new keys does not
        # pay for a full scan on every attempt.
        while len(self._keys) >= self.max_keys * 0.9:
            self._keys.popitem(last=False)


def _address_key(address: str) -> str:
    return "addr:" + address_block(address)


def _whole_seconds(seconds: float) -> int:
    return max(1, math.ceil(seconds))
