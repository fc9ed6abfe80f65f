"""Abuse guards of the web app: CSRF tokens (signed double submit) and sliding-window rate limits.

CSRF: a random value in a cookie (``SameSite=Strict``, ``HttpOnly``) and, in every form, an HMAC of
that value under a key derived from the secret key. Another site can neither read the cookie nor
compute the field, so a form posted from elsewhere fails the check. One-click unsubscribe is exempt:
RFC 8058 POSTs carry no cookies, and the signed token in the URL is the authority.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import deque

CSRF_COOKIE = "tbt_csrf"
CSRF_FIELD = "csrf"


class Csrf:
    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), b"tbt-alert csrf v1", hashlib.sha256).digest()

    @staticmethod
    def new_cookie() -> str:
        return secrets.token_hex(16)

    def field_for(self, cookie: str) -> str:
        return hmac.new(self._key, cookie.encode(), hashlib.sha256).hexdigest()[:32]

    def valid(self, cookie: str | None, field: str | None) -> bool:
        if not cookie or not field or len(cookie) > 64:
            return False
        return hmac.compare_digest(self.field_for(cookie), field)


class RateLimiter:
    """At most ``limit`` hits per key within ``window`` seconds (in this process's memory)."""

    def __init__(self, limit: int, window: float, max_keys: int = 100_000) -> None:
        self.limit, self.window, self.max_keys = limit, window, max_keys
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, now: float) -> bool:
        """Count a hit for ``key``; False when it is over the limit (the hit is not counted)."""
        with self._lock:
            if len(self._hits) >= self.max_keys:
                self._forget_idle(now)
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, h in self._hits.items() if not h or h[-1] <= now - self.window]:
            del self._hits[key]
        if len(self._hits) >= self.max_keys:  # still full: a flood of distinct keys
            self._hits.clear()
