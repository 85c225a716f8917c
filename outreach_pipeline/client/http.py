"""The JSON:API client: one keep-alive ``httpx.Client``, bounded retries, the shared budget.

A request is retried on 5xx answers, dropped or reset connections, timeouts, and bodies that
are cut short or are not a JSON:API document, waiting exponentially longer with jitter; on a
429 (or a 503 carrying ``Retry-After``) it waits as long as the server says, unless that
would take the request's waiting past its policy's ``max_total_wait`` (an hour and a bit): then
the page fails at once, saying when to try again (:mod:`outreach_pipeline.retry`). A 502 for a
listing can instead shrink the page: see :meth:`JsonApiClient.read_page`. Other 4xx answers
and redirects (never followed) are not retried. Authentication is any ``httpx.Auth``
(refreshing on 401 is its business); its exceptions, e.g. ``ReauthorizationRequired``,
propagate untouched.

No request leaves for a URL outside the configured API base (:mod:`.urls`), whatever link
a page carried. Each answer is bounded by :class:`PageLimits`: a body over the size cap
fails the page at once (asking again would bring the same body), a page not read by its
deadline, connecting and headers included (a trickled or withheld answer), is dropped and
retried like a timeout (:mod:`.deadline`).

A run is stopped with ``stop`` (a ``threading.Event``): once set, no request starts, an
answer being read is dropped, and a retry wait, a wait for the rate budget and a token
request's retry wait end, each raising :class:`Interrupted`. A host that
refuses the connection (or has no address) before any answer came, and a 404 before any page
was read, raise :class:`ApiUnusable` at once, for every request after it too: the API URL is
wrong or the API is down, and retrying would only say so for minutes.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import tenacity

from outreach_pipeline.client.documents import Document, MalformedDocument, parse_document
from outreach_pipeline.client.errors import ApiUnusable, FetchError, Interrupted, RetryableResponse
from outreach_pipeline.client.ratebudget import RateBudget, RateHeaders, read_rate_headers
from outreach_pipeline.client.server_clock import ServerClock
from outreach_pipeline.client.urls import ApiBase
from outreach_pipeline.redaction import redact
from outreach_pipeline.retry import (
    API_REQUESTS,
    Retries,
    RetryPolicy,
    retry_after_seconds,
    utc_time,
)
from outreach_pipeline.transport import DeadlineTransport, deadline, stopping_with

log = logging.getLogger(__name__)

JSONAPI = "application/vnd.api+json"
_TRANSIENT_ERRORS = (httpx.TransportError, httpx.DecodingError)
T = TypeVar("T")


@dataclass(frozen=True)
class PageLimits:
    """Bounds on one answer, so a hostile or broken server cannot exhaust memory or time.

    ``max_bytes``: the most body (after decompression) read; more fails the page, not
    retried. ``deadline``: seconds for a whole request, from connecting to the body's last
    byte; past it the page is dropped and retried like a timeout. httpx's own timeouts bound
    each read, not headers or a body trickled one byte at a time, so the deadline is held by
    the transport (:mod:`.deadline`)."""

    max_bytes: int = 256 * 1024 * 1024
    deadline: float = 300.0


@dataclass(frozen=True)
class FetchedPage(Generic[T]):
    """One listing page as read: what ``read`` made of its document, the link to the next
    page (absolute, checked only when followed), the URL that answered, what it cost."""

    content: T
    next_url: str | None
    # How many resources the page held, and ``meta.count`` (the listing's size) if given.
    records: int
    count: int | None
    url: str
    page_size: int | None
    requests: int
    rate_limit_remaining: int | None


def page_size_of(url: str) -> int | None:
    for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        if key == "page[size]":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def with_param(url: str, name: str, value: str) -> str:
    """``url`` with its parameter ``name`` set to ``value`` (added last when it has none;
    the other parameters kept in order)."""
    parts = urlsplit(url)
    params = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    replaced = [(k, value if k == name else v) for k, v in params]
    if all(k != name for k, _ in params):
        replaced.append((name, value))
    return urlunsplit(parts._replace(query=urlencode(replaced, safe="[],:")))


def with_page_size(url: str, size: int) -> str:
    """``url`` asking for ``size`` records per page."""
    return with_param(url, "page[size]", str(size))


@dataclass
class _Progress:
    """The URL being asked for (it shrinks on 502s) and what the attempts cost so far."""

    url: str
    requests: int = 0
    remaining: int | None = None
    # 502s while the page may still shrink: not counted as failed attempts. A size that
    # 502s twice in a row is halved; a single 502 is taken for a passing fault.
    shrinks: int = 0
    bad_gateway_size: int | None = None


class JsonApiClient:
    """Fetches JSON:API documents from ``api_url`` within a shared :class:`RateBudget`."""

    def __init__(
        self,
        api_url: str,
        auth: httpx.Auth,
        budget: RateBudget,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | None = None,
        max_connections: int = 16,
        sleep: Callable[[float], object] | None = None,
        clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
        limits: PageLimits | None = None,
        stop: threading.Event | None = None,
        on_retry: Callable[[str, str, float], None] | None = None,
    ) -> None:
        """``sleep`` (default: a wait that ``stop`` ends) is how retries wait; ``on_retry``
        is told of each one: the URL, the problem and the seconds it waits. A ``transport``
        given (tests) holds no page deadline unless it is a :class:`DeadlineTransport`."""
        self.api_url = api_url.rstrip("/")
        self.base = ApiBase(api_url)
        self.limits = limits or PageLimits()
        self.budget = budget
        self.retry = retry or API_REQUESTS
        self.stop = stop or threading.Event()
        self._sleep = sleep or self.stop.wait
        self._on_retry = on_retry
        self._clock = clock
        # Whether any answer, and any 2xx answer, came yet; what made the API unusable.
        self._answered = False
        self._answered_ok = False
        self._unusable: ApiUnusable | None = None
        self.server_clock = ServerClock()
        self._probing = threading.Lock()
        pool = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self._http = httpx.Client(
            auth=auth,
            timeout=timeout or httpx.Timeout(120.0, connect=15.0, pool=None),
            headers={"Accept": JSONAPI},
            # A redirect would carry the token wherever ``Location`` points.
            follow_redirects=False,
            transport=transport or DeadlineTransport(pool),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> JsonApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, path: str, params: dict[str, str | int] | None = None) -> str:
        """``<api_url>/<path>?<params>`` with JSON:API brackets left readable."""
        query = urlencode(params or {}, safe="[],:")
        return f"{self.api_url}/{path}" + (f"?{query}" if query else "")

    def server_now(self, probe_path: str) -> tuple[float | None, int]:
        """The API's clock (epoch seconds; None if it sends no ``Date``) and the requests
        spent learning it: one record of ``probe_path`` when no answer has come yet."""
        with self._probing:
            now = self.server_clock.now()
            if now is not None:
                return now, 0
            page = self.fetch_page(self.url(probe_path, {"page[size]": 1, "count": "false"}))
            return self.server_clock.now(), page.requests

    def fetch_page(self, url: str, shrink_on_bad_gateway: bool = False) -> FetchedPage[Document]:
        """One listing document (see :meth:`read_page`)."""
        return self.read_page(url, _as_is, shrink_on_bad_gateway=shrink_on_bad_gateway)

    def read_page(
        self,
        url: str,
        read: Callable[[Document], T],
        *,
        shrink_on_bad_gateway: bool = False,
        decoding: AbstractContextManager[Any] | None = None,
    ) -> FetchedPage[T]:
        """One listing page, its document handed to ``read``. With ``shrink_on_bad_gateway``
        two 502s in a row at one ``page[size]`` halve it and ask again at once (the smaller
        size then rides on the ``next`` links): Outreach answers 502 to pages too heavy to
        render, every time, while a one-off 502 is a passing fault. Those 502s do not use up
        the retry policy's attempts.

        With ``decoding`` (a semaphore shared by a run's streams), the body is parsed and
        read only while holding it: a parsed page weighs several times its body (a page of
        1,000 prospects: 6 MB of JSON, 24 MB of Python objects), so this bounds how many are
        held at once. ``read`` should make something smaller of the document; the slot is
        given back however ``read`` or the parse ends."""
        progress = _Progress(self.base.check(url))

        def attempt() -> FetchedPage[T]:
            self._check_usable()
            progress.requests += 1
            try:
                body, rate = self._get_body(progress.url)
            except RetryableResponse as retryable:
                size = page_size_of(progress.url)
                if shrink_on_bad_gateway and retryable.status == 502 and size and size > 1:
                    progress.shrinks += 1
                    if progress.bad_gateway_size == size:
                        log.warning("502 twice at page size %s, halving: %s", size, progress.url)
                        progress.url = with_page_size(progress.url, size // 2)
                        retryable.wait = 0.0
                    else:
                        # The backoff would grow with every halving: wait as for a first failure.
                        retryable.wait = self.retry.initial_wait
                    progress.bad_gateway_size = size
                raise
            progress.remaining = rate.remaining
            with decoding or nullcontext():
                document = _parsed(progress.url, body)
                del body
                return FetchedPage(
                    content=read(document),
                    next_url=self.base.join(progress.url, document.next_url)
                    if document.next_url
                    else None,
                    records=len(document.resources),
                    count=document.count,
                    url=progress.url,
                    page_size=page_size_of(progress.url),
                    requests=progress.requests,
                    rate_limit_remaining=progress.remaining,
                )

        retries = Retries(
            self.retry,
            retry_on=lambda error: isinstance(error, (RetryableResponse, *_TRANSIENT_ERRORS)),
            asked_wait=lambda error: error.wait if isinstance(error, RetryableResponse) else None,
            # Failed attempts so far, less the 502s that went to shrinking the page.
            failures=lambda state: state.attempt_number - progress.shrinks,
            sleep=self._pause,
            before_sleep=lambda state: self._retrying(state, progress.url),
        )
        try:
            return retries(attempt)
        except RetryableResponse as failed:
            if retries.refused_wait is not None and failed.status in (429, 503):
                raise FetchError(
                    failed.url,
                    f"HTTP {failed.status} asked to wait {retries.refused_wait:.0f} s, longer "
                    f"than a request waits ({self.retry.max_total_wait:.0f} s): try again "
                    f"after {utc_time(self._clock() + retries.refused_wait)}",
                    failed.status,
                ) from None
            raise FetchError(failed.url, failed.problem, failed.status) from None
        except _TRANSIENT_ERRORS as failed:
            raise FetchError(progress.url, redact(f"{type(failed).__name__}: {failed}")) from None

    def _pause(self, seconds: float) -> None:
        self._sleep(seconds)

    def _check_usable(self) -> None:
        if self.stop.is_set():
            raise Interrupted("stopped on request")
        if self._unusable is not None:
            raise self._unusable

    def _unusable_api(self, url: str, problem: str, status: int | None) -> ApiUnusable:
        self._unusable = ApiUnusable(url, problem, status)
        return self._unusable

    def _retrying(self, retry_state: tenacity.RetryCallState, url: str) -> None:
        outcome = retry_state.outcome
        failure = outcome.exception() if outcome is not None else None
        problem = redact(str(failure))
        log.info("attempt %s failed (%s); retrying", retry_state.attempt_number, problem)
        if self._on_retry is not None and retry_state.next_action is not None:
            self._on_retry(url, problem, retry_state.next_action.sleep)

    def _get_body(self, url: str) -> tuple[bytes, RateHeaders]:
        """The body of a 2xx answer to ``url``; other answers raise."""
        # Every request passes here: the one place that decides where the token may go.
        self.base.check(url)
        self.budget.acquire(self.stop)
        rate: RateHeaders | None = None
        try:
            # Streamed, so the body is ours alone: a response read whole keeps it, and httpx's
            # response and stream objects refer to each other, so each page's body (MBs)
            # waited for the cyclic garbage collector (1 GB at scale 20000 without it).
            try:
                with (
                    stopping_with(self.stop),
                    deadline(self.limits.deadline),
                    self._http.stream("GET", url) as response,
                ):
                    self._answered = True
                    body = self._read_body(url, response)
            except httpx.ConnectError as error:
                if self._answered:
                    raise
                raise self._unusable_api(
                    url,
                    f"cannot connect to OUTREACH_API_URL={self.api_url} ({redact(str(error))}): "
                    "is the URL right and the API up?",
                    None,
                ) from None
            rate = read_rate_headers(response.headers, self._clock())
            self.server_clock.observe(response.headers.get("date"))
        finally:
            self.budget.release(rate)
        status = response.status_code
        if status == 429 or (status == 503 and "retry-after" in response.headers):
            wait = self._server_wait(response, rate)
            if status == 429 and wait <= self.retry.max_total_wait:
                # A longer wait fails the request at once (see read_page), and should not hold
                # every other stream in the budget for as long: each finds out for itself.
                self.budget.exhausted(self._clock() + wait)
            raise RetryableResponse(url, f"HTTP {status}, retry in {wait:.0f} s", status, wait)
        if status >= 500:
            raise RetryableResponse(url, f"HTTP {status}", status)
        if status == 404 and not self._answered_ok:
            # Not kept for later requests: a resume link saved by an earlier run may 404 alone.
            raise ApiUnusable(
                url,
                f"OUTREACH_API_URL={self.api_url} answered 404 for {self.base.relative(url)}: "
                "is the base URL right (it usually ends in /api/v2)?",
                status,
            )
        if status >= 400:
            raise FetchError(url, f"HTTP {status}: {error_text(body)}", status)
        if status >= 300:
            raise FetchError(url, f"HTTP {status}: redirects are not followed", status)
        self._answered_ok = True
        return body, rate

    def _read_body(self, url: str, response: httpx.Response) -> bytes:
        """The body, within :attr:`limits`: refused as soon as it is known to be too big."""
        cap = self.limits.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise FetchError(url, f"body of {declared} bytes is over the {cap}-byte limit")
        chunks = []
        size = 0
        for chunk in response.iter_bytes():
            if self.stop.is_set():
                raise Interrupted("stopped on request")
            size += len(chunk)
            if size > cap:
                raise FetchError(url, f"body is over the {cap}-byte limit")
            chunks.append(chunk)
        return b"".join(chunks)

    def _server_wait(self, response: httpx.Response, rate: RateHeaders) -> float:
        """Seconds the server asked for: ``Retry-After`` (seconds or a date), else the rate
        limit's reset, else the backoff's cap."""
        asked = retry_after_seconds(response.headers.get("retry-after", ""), self._clock())
        if asked is not None:
            return asked
        if rate.reset_at is not None:
            return max(1.0, rate.reset_at - self._clock())
        return self.retry.max_wait


def error_text(body: bytes) -> str:
    """An error answer's body for one line of text: a JSON:API error's title and detail, else
    the text itself, whitespace folded, masked (it may echo the request, token included) and
    capped; never a bytes repr."""
    text = body[:4096].decode("utf-8", "replace")
    try:
        errors = json.loads(text).get("errors") or []
        first = errors[0]
        text = ": ".join(str(first[k]) for k in ("title", "detail") if first.get(k))
    except (ValueError, AttributeError, IndexError, KeyError, TypeError):
        pass
    return redact(" ".join(text.split()))[:300] or "(empty body)"


def _as_is(document: Document) -> Document:
    return document


def _parsed(url: str, body: bytes) -> Document:
    try:
        return parse_document(body)
    except MalformedDocument as error:
        raise RetryableResponse(url, str(error), None) from None
