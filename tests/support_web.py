"""The web app under a real uvicorn server on a loopback port, in a thread, for tests; a clock the
test moves; a browser-like client (requests) that reads the CSRF field out of the pages."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import requests
import uvicorn
from sqlalchemy.engine import Engine

from tbt_alert.config import Config, build_config
from tbt_alert.web.app import create_app

SECRET = "test-secret-key-0123456789"


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


class WebServer:
    def __init__(self, engine: Engine, config: Config, clock: Clock, port: int) -> None:
        self.app = create_app(config, engine, clock=clock)
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(
            uvicorn.Config(
                self.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def web_config(tmp_path: Path, port: int, smtp_url: str, **web: Any) -> Config:
    return build_config(
        {
            "data_dir": str(tmp_path / "data"),
            "mail": {
                "smtp_url": smtp_url,
                "sender": "tbt-alert <alerts@tbt-alert.test>",
                "message_id_domain": "tbt-alert.test",
            },
            "web": {"public_url": f"http://127.0.0.1:{port}/", "secret_key": SECRET} | web,
        }
    )


CSRF_RE = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def csrf_of(html: str) -> str:
    found = CSRF_RE.search(html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def mail_text(msg: EmailMessage) -> str:
    body = msg.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def links_in(text: str) -> list[str]:
    return re.findall(r"https?://[^\s<>\"']+", text)


def browser() -> requests.Session:
    return requests.Session()
