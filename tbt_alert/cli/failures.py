"""The CLI's error boundary: any exception becomes one line naming the cause and what to do,
with secrets masked; the traceback only with ``-v``. SIGTERM and SIGHUP unwind like Ctrl-C (every
``finally`` runs: transactions roll back, spider process groups are ended) and exit 128+signal."""

from __future__ import annotations

import re
import signal
import sys
from collections.abc import Iterable
from types import FrameType

from tbt_alert.errors import TbtAlertError

# scheme://user:password@host -> scheme://user:***@host
_URL_PASSWORD = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)([^@\s]+)(@)")
MASK = "***"
MAX_LINE = 400


class Interrupted(BaseException):
    """Raised in the main thread by SIGTERM or SIGHUP, so the command unwinds as on Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_interrupted(signum: int, _frame: FrameType | None) -> None:
    raise Interrupted(signum)


def install_signal_handlers() -> None:
    """SIGTERM and SIGHUP raise :class:`Interrupted` (the daemon installs its own while serving)."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_interrupted)


def mask_secrets(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask passwords inside URLs, and every value of ``secrets``."""
    text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{MASK}{m.group(3)}", text)
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def first_line(text: str) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return (lines[0] if lines else "")[:MAX_LINE]


def database_cause(exc: BaseException) -> str:
    """The driver's own words for a database error (SQLAlchemy wraps them in ``orig``)."""
    orig = getattr(exc, "orig", None)
    cause = first_line(str(orig)) if orig is not None else ""
    return cause or first_line(str(exc)) or exc.__class__.__name__


def describe(exc: BaseException) -> str:
    """One line for ``exc``: what went wrong, the cause, and what to do where that is known."""
    if isinstance(exc, TbtAlertError):
        return first_line(str(exc)) or exc.__class__.__name__
    if "sqlalchemy" in sys.modules:  # else no SQLAlchemy error can have been raised
        found = _sqlalchemy_error(exc)
        if found:
            return found
    if isinstance(exc, UnicodeError):
        return f"input is not UTF-8 text: {first_line(str(exc))}"
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or exc.__class__.__name__}{where}"
    detail = first_line(str(exc))
    return (
        f"unexpected error {exc.__class__.__name__}"
        + (f": {detail}" if detail else "")
        + " (run with -v for the traceback)"
    )


def _sqlalchemy_error(exc: BaseException) -> str | None:
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    if isinstance(exc, DBAPIError):
        cause = database_cause(exc)
        lowered = cause.lower()
        if "readonly" in lowered or "read-only" in lowered or "read only" in lowered:
            return (
                f"the database is read-only ({cause}): check the permissions of the database "
                "file and its folder, or the server's read-only setting"
            )
        if exc.connection_invalidated or _is_disconnect(lowered):
            return (
                f"lost the connection to the database ({cause}): check that the server is up, "
                "then run the command again (the interrupted transaction was rolled back)"
            )
        return f"database error: {cause}"
    if isinstance(exc, SQLAlchemyError):
        return f"database error: {database_cause(exc)}"
    return None


_DISCONNECT = (
    "server closed the connection",
    "connection is closed",
    "terminating connection",
    "connection refused",
    "could not connect",
    "connection timed out",
    "consuming input failed",
    "the connection is lost",
    "ssl syscall",
)


def _is_disconnect(lowered: str) -> bool:
    return any(marker in lowered for marker in _DISCONNECT)
