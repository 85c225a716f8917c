"""The :class:`Emulator`: emulated Outreach orgs with the OAuth app their users authorize, their
data and the HTTP server."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from outreach_emulator.admin import AdminEndpoints
from outreach_emulator.api import ApiEndpoints
from outreach_emulator.clock import Clock
from outreach_emulator.config import EmulatorConfig
from outreach_emulator.data import RecordStore
from outreach_emulator.faults import INJECTED_ERRORS, Faults
from outreach_emulator.grants import Grants
from outreach_emulator.messages import Request, Response, api_error
from outreach_emulator.oauth import OAuthEndpoints
from outreach_emulator.orgs import Org
from outreach_emulator.ratelimit import RateLimiter
from outreach_emulator.s2s import S2SEndpoint
from outreach_emulator.server import EmulatorHTTPServer
from outreach_emulator.stats import Stats
from outreach_emulator.warmup import warm

API_PREFIX = "/api/v2/"
ADMIN_PREFIX = "/_emulator/"
# How often the serving loop checks for shutdown: short, so tests stop emulators quickly.
SHUTDOWN_POLL_SECONDS = 0.02
_S2S_PATH = re.compile(r"/api/app/installs/([^/]+)/actions/accessToken$")


class Emulator:
    """See ``docs/contracts.md``; ``with emu.serve(port=0):`` runs it on a free loopback port.

    ``orgs`` holds every org by name, the default one first; ``data`` and ``rate_limiter`` are
    the default org's (with a single org, the only ones).
    """

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        cfg = self.config
        self.clock = Clock(cfg.clock_frozen_at)
        started = time.perf_counter()
        self.orgs = {spec.name: Org(spec, cfg, self.clock) for spec in cfg.org_specs}
        self.build_seconds = time.perf_counter() - started
        default = self.org()
        self.data: RecordStore = default.data
        self.rate_limiter: RateLimiter = default.rate_limiter
        self.grants = Grants(cfg, self.clock, is_user=self._is_user)
        self.faults = Faults(cfg.seed)
        self._stats = Stats()
        self._oauth = OAuthEndpoints(cfg, self.grants, self.faults, self.orgs)
        self._s2s = S2SEndpoint(cfg, self.grants, self.clock)
        self._apis = {
            name: ApiEndpoints(org.data, org.rate_limiter, self.faults)
            for name, org in self.orgs.items()
        }
        self._admin = AdminEndpoints(self)
        self.warm_seconds = 0.0
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- running ---------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> Emulator:
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        self._server = EmulatorHTTPServer((host, port), self.dispatch, self.clock.now)
        for org in self.orgs.values():
            org.data.set_api_url(self.api_url)
        if self.config.warm:
            self.warm_seconds = sum(warm(org.data) for org in self.orgs.values())
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS},
            name="outreach-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    @contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[Emulator]:
        self.start(host, port)
        try:
            yield self
        finally:
            self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not running; use start() or serve()")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        return self.base_url + API_PREFIX.rstrip("/")

    @property
    def oauth_url(self) -> str:
        return self.base_url + "/oauth"

    @property
    def app_url(self) -> str:
        """Base of ``/api/app/...`` (S2S token exchange)."""
        return self.base_url + "/api/app"

    def org(self, name: str | None = None) -> Org:
        """The org named ``name`` (default: the default org); KeyError for an unknown one."""
        if name is None:
            return next(iter(self.orgs.values()))
        if name not in self.orgs:
            raise KeyError(f"no org {name!r}; orgs: {sorted(self.orgs)}")
        return self.orgs[name]

    def _is_user(self, org: str, user_id: int) -> bool:
        return org in self.orgs and self.orgs[org].has_user(user_id)

    def org_usage(self, name: str) -> dict[str, Any]:
        """What ``name``'s users did: API requests and 429s per user, tokens minted and live
        grants per user (the per-org side of ``stats``)."""
        org = self.org(name)
        return {
            "name": name,
            "seed": org.spec.seed,
            "scale": org.spec.scale,
            "rate_limit": org.rate_limiter.limit,
            "users": org.user_ids(),
            **org.rate_limiter.usage(),
            **self.grants.usage(name),
        }

    @property
    def stats(self) -> dict[str, Any]:
        return {
            **self._stats.snapshot(),
            "records": self.data.counts(),
            "grants": self.grants.summary(),
            "rate_limited": sum(org.rate_limiter.refused for org in self.orgs.values()),
            "faults_set": self.faults.snapshot(),
            "clock": self.clock.now(),
            "build_seconds": round(self.build_seconds, 3),
            "warm_seconds": round(self.warm_seconds, 3),
        }

    # -- routing ---------------------------------------------------------------------------

    def dispatch(self, request: Request) -> Response:
        """Answer one request; a bug answers 500 rather than killing the connection."""
        try:
            return self._dispatch(request)
        except Exception as error:
            detail = f"The emulator failed: {type(error).__name__}."
            return api_error(500, "internalServerError", "Internal Server Error", detail)

    def _dispatch(self, request: Request) -> Response:
        """Faults are applied here, never to the admin endpoints."""
        path = request.path
        if path.startswith(ADMIN_PREFIX):
            response = self._admin.handle(request, path[len(ADMIN_PREFIX) :])
            self._stats.record("admin", response.status, len(response.body), 0, "")
            return response
        if self.faults.settings.latency > 0:
            time.sleep(self.faults.settings.latency)
        route, stream = "other", ""
        if path == "/oauth/authorize" and request.method in ("GET", "POST"):
            route, response = "oauth", self._oauth.authorize(request)
        elif path == "/oauth/token" and request.method == "POST":
            route, response = "oauth", self._oauth.token(request)
        elif (match := _S2S_PATH.match(path)) and request.method == "POST":
            route, response = "s2s", self._s2s.access_token(request, match.group(1))
        elif path.startswith(API_PREFIX):
            route, stream = "api", path[len(API_PREFIX) :].split("/", 1)[0]
            response = self._api_with_faults(request, path[len(API_PREFIX) :])
        else:
            response = api_error(404, "resourceNotFound", "Resource Not Found", "No such path.")
        # The profile's latency depends on the answer's size, so it is waited once the answer
        # is built (an interrupted client may miss an answer the emulator acted on, as with
        # the real API); the fixed latency above is waited before acting, as it always was.
        wait = self.faults.profile_delay(response.records)
        if wait > 0:
            time.sleep(wait)
        if self.faults.fails_big_page(response.records):
            self._stats.fault("big_page_502")
            response = INJECTED_ERRORS[502]()
        self._stats.record(route, response.status, len(response.body), response.records, stream)
        return response

    def _api_with_faults(self, request: Request, resource_path: str) -> Response:
        intercepted = self.faults.intercept()
        if intercepted is not None:
            kind, response = intercepted
            self._stats.fault(kind)
            return response
        access = self.grants.access(request.bearer() or "")
        api = self._apis[access.org if access is not None else self.org().name]
        response = api.handle(request, resource_path, access)
        if self.faults.should_truncate():
            self._stats.fault("truncated")
            response.truncate = True
        return response
