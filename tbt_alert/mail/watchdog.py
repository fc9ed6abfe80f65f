"""A deadline for one send, enforced from outside the blocked call: when it passes, the
connection's sockets are shut down, so whatever read or write was waiting returns at once."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Self


class Watchdog:
    """Cuts a connection's sockets when a send outlives its deadline: a per-operation timeout
    cannot stop a server that trickles one byte at a time. One thread per mailer, armed and
    disarmed around each send (starting a thread per message would cost more than the send)."""

    def __init__(self, sockets: Callable[[], Iterable[socket.socket | None]]) -> None:
        self._sockets = sockets
        self._cond = threading.Condition()
        self._deadline: float | None = None
        self._thread: threading.Thread | None = None
        self._generation = 0  # a stopped watcher sees a newer generation and ends
        self._waking: float | None = None  # when the watcher will next look; None: when told
        self.fired = False

    def arm(self, seconds: float) -> Self:
        deadline = time.monotonic() + seconds
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._watch, args=(self._generation,), daemon=True
                )
                self._thread.start()
            self._deadline, self.fired = deadline, False
            if self._waking is None or deadline < self._waking:
                self._cond.notify()  # the watcher sleeps too long (or for ever): wake it
        return self

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        with self._cond:  # no wake-up: the watcher finds no deadline when it next looks
            self._deadline = None

    def stop(self) -> None:
        with self._cond:
            self._generation += 1
            self._thread, self._deadline = None, None
            self._cond.notify_all()

    def _watch(self, generation: int) -> None:
        with self._cond:
            while generation == self._generation:
                if self._deadline is None:
                    self._waking = None
                    self._cond.wait()
                    continue
                left = self._deadline - time.monotonic()
                if left > 0:
                    self._waking = self._deadline
                    self._cond.wait(left)
                    continue
                self.fired, self._deadline = True, None
                for sock in self._sockets():
                    if sock is not None:
                        with contextlib.suppress(OSError):
                            sock.shutdown(socket.SHUT_RDWR)
