"""HTTP plumbing the writers share: one request, classified into an outcome."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Mapping
from email.utils import parsedate_to_datetime
from typing import TypeVar
from urllib.parse import urlsplit

import httpx

from hubbub.networks.user_agent import USER_AGENT  # one User-Agent for every request
from hubbub.outbox.outcome import AuthExpired, NotSent, OutcomeUnknown, RateLimited, Refused
from hubbub.sources.base import redact

T = TypeVar("T")


def reset_in(headers: Mapping[str, str], *names: str, default: float = 60.0) -> float:
    """Seconds until a rate limit resets, from whichever header the network uses
    (epoch seconds, an HTTP date, an ISO time, or Retry-After seconds)."""
    for name in names:
        value = headers.get(name)
        if not value:
            continue
        value = value.strip()
        try:
            number = float(value)
        except ValueError:
            number = None
        if number is not None:
            # Epoch seconds are large; Retry-After is a small count of seconds.
            return max(0.0, number - time.time()) if number > 1e9 else max(0.0, number)
        try:
            from datetime import datetime

            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            try:
                when = parsedate_to_datetime(value)
            except (TypeError, ValueError):
                continue
        return max(0.0, when.timestamp() - time.time())
    return default


def error_text(response: httpx.Response) -> str:
    """A short, secret-free description of an error answer."""
    detail = ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("error", "detail", "message", "title"):
            value = body.get(key)
            if isinstance(value, str) and value:
                detail = value
                break
        errors = body.get("errors")
        if not detail and isinstance(errors, list) and errors and isinstance(errors[0], dict):
            value = errors[0].get("message") or errors[0].get("detail")
            if isinstance(value, str):
                detail = value
    # The server's words are hostile and may echo the request's credentials back:
    # masked (the token sent, by value, and anything shaped like a secret) and made
    # safe for a terminal before they are stored or shown.
    detail = redact(detail, 200, known=_sent_secrets(response)) if detail else ""
    return f"HTTP {response.status_code}" + (f": {detail}" if detail else "")


def _sent_secrets(response: httpx.Response) -> list[str]:
    try:
        sent = response.request.headers.get("authorization", "")
    except RuntimeError:  # a response built without a request (tests)
        return []
    scheme, _, token = sent.partition(" ")
    return [v for v in (sent, token if scheme else "") if len(v) >= 8]


async def request(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    json: object | None = None,
    params: Mapping[str, str] | None = None,
    reset_headers: tuple[str, ...] = ("retry-after",),
) -> httpx.Response:
    """Send one request; return a 2xx answer or raise the outcome it means."""
    try:
        response = await client.request(
            method,
            url,
            headers={"User-Agent": USER_AGENT, **headers},
            json=json,
            params=params,
        )
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        # Raised while getting a connection (DNS, TCP, TLS handshake, a free
        # slot in the pool): not a byte of the request was written.
        raise NotSent(f"could not connect to {_host(url)}: {_cause(exc)}") from None
    except httpx.TimeoutException:
        raise OutcomeUnknown("no answer in time") from None
    except httpx.TransportError as exc:
        raise OutcomeUnknown(f"connection lost ({type(exc).__name__})") from None
    status = response.status_code
    if 200 <= status < 300:
        return response
    if status == 429:
        raise RateLimited(error_text(response), reset_in(response.headers, *reset_headers))
    if status == 401:
        raise AuthExpired(error_text(response))
    if status >= 500:
        raise OutcomeUnknown(error_text(response))
    if status == 400 and _error_name(response) in ("ExpiredToken", "InvalidToken"):
        raise AuthExpired(error_text(response))  # how an atproto server says 401
    raise Refused(error_text(response))


async def before_posting(what: str, step: Awaitable[T]) -> T:
    """Run a read a writer needs before its posting request (the server's
    limits, the account, a session, the post replied to). Whatever goes wrong
    there, the posting request has not left, so an unknown outcome of this
    step (a 5xx, a lost connection, no answer, a garbled body) is "not sent":
    trying again cannot make a second post."""
    try:
        return await step
    except OutcomeUnknown as exc:
        raise NotSent(f"{what} before posting failed: {exc.reason}") from None


def _host(url: str) -> str:
    return urlsplit(url).hostname or "the server"


def _cause(exc: Exception) -> str:
    """What the connection attempt said (the OS's or TLS's words), on one
    line and short; never a header, so never a secret."""
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return "no connection in time"
    text = " ".join(str(exc).split())[:200]
    return text or type(exc).__name__


def _error_name(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    value = body.get("error") if isinstance(body, dict) else None
    return value if isinstance(value, str) else None


def new_client(timeout: float = 15.0) -> httpx.AsyncClient:
    """The HTTP client writers share; ``timeout`` bounds one request."""
    return httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)))


def json_object(response: httpx.Response) -> dict[str, object]:
    try:
        body = response.json()
    except ValueError:
        raise OutcomeUnknown(f"HTTP {response.status_code} with a body that is not JSON") from None
    if not isinstance(body, dict):
        raise OutcomeUnknown(f"HTTP {response.status_code} with an unexpected body")
    return body
