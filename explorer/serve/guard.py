"""HTTP guards in front of the whole app (Gradio's routes and ours), as ASGI middleware added after launch.

- QueryLimit: a page link with a huge query string gets HTTP 414 and a sentence (Gradio answered a 500).
- LoginGuard: wrong passwords are counted per client address; after MAX_FAILURES within WINDOW_S the
  address is refused with HTTP 429 for LOCKOUT_S, the right password included (200 guesses took 0.6 s).
  Under a login, Gradio's /gradio_api/cancel and /reset also want it (they answered {"success": true}).
"""

from __future__ import annotations

import re
import threading
import time

from starlette.responses import JSONResponse, Response

MAX_QUERY = 8_192  # bytes of a page URL's query: a share code is well under 1 kB
MAX_FAILURES = 5  # wrong passwords from one address within WINDOW_S before it must wait
WINDOW_S = 60.0
LOCKOUT_S = 60.0
_LOGIN = re.compile(r"^(/gradio_api)?/login/?$")
_SESSION_ONLY = re.compile(r"^/gradio_api/(cancel|reset)/?$")  # Gradio leaves these open without a login


class QueryLimit:
    """ASGI middleware: a request whose query string is over MAX_QUERY bytes gets HTTP 414 with a sentence."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and len(scope.get("query_string", b"")) > MAX_QUERY:
            response = Response("This link is too long to be a Melody Explorer share link: open the page without it.",
                                status_code=414, media_type="text/plain")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class Failures:
    """Wrong passwords per client address in a sliding window, and the addresses locked out."""

    def __init__(self, max_failures: int = MAX_FAILURES, window_s: float = WINDOW_S, lockout_s: float = LOCKOUT_S):
        self.max_failures, self.window_s, self.lockout_s = max_failures, window_s, lockout_s
        self._seen: dict[str, list[float]] = {}
        self._locked: dict[str, float] = {}  # address -> when it may try again
        self._lock = threading.Lock()

    def wait_s(self, who: str, now: float | None = None) -> float:
        """Seconds `who` must still wait (0 = may try)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            until = self._locked.get(who, 0.0)
            if until <= now:
                self._locked.pop(who, None)
                return 0.0
            return until - now

    def failed(self, who: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            recent = [t for t in self._seen.get(who, []) if now - t < self.window_s] + [now]
            self._seen[who] = recent
            if len(recent) >= self.max_failures:
                self._locked[who] = now + self.lockout_s
                self._seen.pop(who, None)
            if len(self._seen) > 10_000:  # a flood from many addresses: forget the oldest
                for key in list(self._seen)[:5_000]:
                    self._seen.pop(key, None)

    def succeeded(self, who: str) -> None:
        with self._lock:
            self._seen.pop(who, None)


class LoginGuard:
    """ASGI middleware for an app with a login (`gradio_app` is Gradio's FastAPI app: its tokens and cookie id).
    Counts failed logins (Gradio's /login answering 400, our /v1 routes answering 401 to a wrong Basic
    password) per client address and refuses a locked-out address with 429; under a login, wants it for
    /gradio_api/cancel and /reset."""

    def __init__(self, app, gradio_app, failures: Failures):
        self.app, self.gradio_app, self.failures = app, gradio_app, failures

    def _logged_in(self, scope) -> bool:
        cookies = {}
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                for part in value.decode("latin-1").split(";"):
                    k, _, v = part.strip().partition("=")
                    cookies[k] = v
        cid = getattr(self.gradio_app, "cookie_id", "")
        token = cookies.get(f"access-token-{cid}") or cookies.get(f"access-token-unsecure-{cid}")
        return bool(token) and token in getattr(self.gradio_app, "tokens", {})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if _SESSION_ONLY.match(path) and not self._logged_in(scope):
            await JSONResponse({"error": "Log in first."}, status_code=401)(scope, receive, send)
            return
        login = scope.get("method") == "POST" and bool(_LOGIN.match(path))
        basic = path.startswith("/v1/") and any(n == b"authorization" for n, _ in scope.get("headers", []))
        if not (login or basic):
            await self.app(scope, receive, send)
            return
        who = (scope.get("client") or ("unknown",))[0]
        wait = self.failures.wait_s(who)
        if wait:
            await JSONResponse({"error": f"Too many wrong passwords: try again in {wait:.0f} seconds."},
                               status_code=429, headers={"Retry-After": f"{wait:.0f}"})(scope, receive, send)
            return
        status = {}

        async def watch(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        await self.app(scope, receive, watch)
        code = status.get("code")
        if code in ((400, 401) if login else (401,)):
            self.failures.failed(who)
        elif code == 200:
            self.failures.succeeded(who)


def add_guards(app, auth: tuple[str, str] | None) -> None:
    """Put the guards in front of a (Gradio's FastAPI) app, even after it has started serving."""
    from starlette.middleware import Middleware

    if auth is not None:
        app.user_middleware.insert(0, Middleware(LoginGuard, gradio_app=app, failures=Failures()))
    app.user_middleware.insert(0, Middleware(QueryLimit))
    app.middleware_stack = None  # rebuilt with the new middleware on the next request
