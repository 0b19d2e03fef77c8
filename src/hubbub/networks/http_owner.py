"""The HTTP client a network client talks through: the one the caller gave
(tests, a shared pool), else one of its own, made again after ``aclose`` (a
source the pipeline restarts reuses its client object)."""

from __future__ import annotations

from typing import Self

import httpx

from hubbub.networks.user_agent import USER_AGENT

DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=10.0)


class OwnsHttp:
    _given_http: httpx.AsyncClient | None = None
    _own_http: httpx.AsyncClient | None = None
    _http_timeout: httpx.Timeout = DEFAULT_TIMEOUT

    def _init_http(
        self, http: httpx.AsyncClient | None, timeout: httpx.Timeout = DEFAULT_TIMEOUT
    ) -> None:
        self._given_http = http
        self._own_http = None
        self._http_timeout = timeout

    @property
    def _http(self) -> httpx.AsyncClient:
        if self._given_http is not None:
            return self._given_http
        if self._own_http is None or self._own_http.is_closed:
            # Redirects are not followed: a redirect could carry our token's
            # request to another host.
            self._own_http = httpx.AsyncClient(
                timeout=self._http_timeout,
                headers={"User-Agent": USER_AGENT},
                follow_redirects=False,
            )
        return self._own_http

    async def aclose(self) -> None:
        if self._own_http is not None:
            await self._own_http.aclose()
            self._own_http = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
