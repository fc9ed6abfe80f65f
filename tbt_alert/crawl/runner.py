"""Run a spider out of process with a hard timeout, and read back what it wrote.

Scrapy's reactor cannot restart inside one process, and a hung crawl must not hang the daemon:
each crawl is ``python -m tbt_alert.crawl.spider_main`` in its own process group,
killed at the timeout. Silence is failure: a crawl that fails, times out, yields no items or mostly
invalid items raises :class:`CrawlError` with the tail of its log. The crawl never touches the DB.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from tbt_alert.crawl.fetchguard import host_port
from tbt_alert.crawl.settings import crawl_settings
from tbt_alert.errors import CrawlError, RecordError
from tbt_alert.record import CanonicalRecord, decode_lines, parse_line

MAX_INVALID_RATIO = 0.2
LOG_TAIL_LINES = 30
KILL_GRACE_S = 2.0


@dataclass(slots=True)
class CrawlOutput:
    records: list[CanonicalRecord]
    invalid: int
    items_path: Path
    log_path: Path
    stats: dict[str, Any]
    errors: list[str] = field(default_factory=list)


def run_spider(
    slug: str,
    *,
    since: date,
    until: date,
    base_url: str,
    workdir: Path,
    timeout_s: float = 1800,
    settings: Mapping[str, Any] | None = None,
    spider_args: Mapping[str, str] | None = None,
    max_invalid_ratio: float = MAX_INVALID_RATIO,
    env: Mapping[str, str] | None = None,
) -> CrawlOutput:
    """Crawl ``slug`` for distribution dates ``since``..``until``; CrawlError when it failed.

    ``settings`` override the Scrapy settings of :mod:`tbt_alert.crawl.settings`; ``spider_args`` are extra
    spider arguments (e.g. ``{"page_size": "20"}``); ``env`` adds variables to the spider's
    environment (secrets such as an API key go there: argv is visible to every user in ``ps``).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    items_path = workdir / f"{slug}.jsonl"
    log_path = workdir / f"{slug}.log"
    stats_path = Path(f"{items_path}.stats.json")
    for stale in (items_path, stats_path):
        stale.unlink(missing_ok=True)
    args = {**(spider_args or {}), "base_url": base_url}
    args.update(since=since.isoformat(), until=until.isoformat())
    command = spider_command(slug, items_path, args, with_allowed_host(settings or {}, base_url))
    status = _run(command, log_path, timeout_s, slug, {**os.environ, **(env or {})})
    if status != 0:
        reason = failure_reason(stats_path)
        raise CrawlError(f"crawl of {slug} failed: {reason}\n{log_tail(log_path)}")
    output = read_output(items_path, log_path, stats_path)
    check_output(slug, output, max_invalid_ratio)
    return output


def with_allowed_host(settings: Mapping[str, Any], base_url: str) -> dict[str, Any]:
    """Without an explicit ``TBT_ALLOWED_HOSTS``, the fetch guard allows its default hosts plus
    exactly the host and port of the base URL the caller chose to crawl."""
    out = dict(settings)
    if "TBT_ALLOWED_HOSTS" not in out and base_url:
        out["TBT_ALLOWED_HOSTS"] = [
            *crawl_settings().get("TBT_ALLOWED_HOSTS", []),
            host_port(base_url),
        ]
    return out


def spider_command(
    slug: str, out: Path, args: Mapping[str, str], settings: Mapping[str, Any]
) -> list[str]:
    command = [sys.executable, "-m", "tbt_alert.crawl.spider_main", slug, "--out", str(out)]
    for key, value in args.items():
        command += ["--arg", f"{key}={value}"]
    return [*command, "--settings-json", json.dumps(dict(settings))]


def _run(
    command: list[str], log_path: Path, timeout_s: float, slug: str, env: Mapping[str, str]
) -> int:
    """Run ``command`` in its own process group, output to ``log_path``; kill it at the timeout."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=dict(env),
        )
        try:
            return process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(process)
        except BaseException:  # SIGTERM, Ctrl-C: the spider's group ends with its parent
            _kill_group(process)
            raise
    raise CrawlError(f"crawl of {slug} timed out after {timeout_s:g} s\n{log_tail(log_path)}")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the whole process group, then SIGKILL it if it is still there after a grace."""
    for sig, grace in ((signal.SIGTERM, KILL_GRACE_S), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def read_output(items_path: Path, log_path: Path, stats_path: Path) -> CrawlOutput:
    """Parse the items file line by line; an invalid line is counted with its line number."""
    stats = _read_stats(stats_path)
    records: list[CanonicalRecord] = []
    errors = [f"spider: {e}" for e in stats.get("tbt/invalid_item_errors", [])]
    invalid = int(stats.get("tbt/invalid_items", 0))
    if items_path.exists():
        with items_path.open("rb") as stream:
            for number, line in decode_lines(stream):
                try:
                    if isinstance(line, RecordError):
                        raise line
                    if line.strip():
                        records.append(parse_line(line))
                except RecordError as e:  # reported, never dropped in silence
                    invalid += 1
                    errors.append(f"{items_path.name}:{number}: {e}")
    return CrawlOutput(records, invalid, items_path, log_path, stats, errors)


def failure_reason(stats_path: Path) -> str:
    """What the spider recorded about its failure, else its close reason, else a pointer to the log."""
    try:
        stats = _read_stats(stats_path)
    except CrawlError:
        return "the spider process failed before writing its stats (see the log below)"
    reason = stats.get("tbt/failure") or f"spider closed with reason {stats.get('finish_reason')!r}"
    errors = stats.get("log_count/ERROR", 0)
    return f"{reason} ({errors} error(s) logged)"


def _read_stats(path: Path) -> dict[str, Any]:
    try:
        stats = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as e:
        raise CrawlError(f"crawler stats {path} are missing or unreadable: {e}") from e
    if not isinstance(stats, dict):
        raise CrawlError(f"crawler stats {path} are not a JSON object")
    return stats


def check_output(slug: str, output: CrawlOutput, max_invalid_ratio: float) -> None:
    """Silence is failure: no valid items, or too many invalid ones, fails the crawl."""
    total = len(output.records) + output.invalid
    if not output.records:
        detail = f" ({output.invalid} invalid)" if output.invalid else ""
        raise CrawlError(f"crawl of {slug} produced no items{detail}\n{log_tail(output.log_path)}")
    if output.invalid / total > max_invalid_ratio:
        first = "; ".join(output.errors[:3])
        raise CrawlError(
            f"crawl of {slug}: {output.invalid} of {total} items invalid "
            f"(more than {max_invalid_ratio:.0%}): {first}"
        )


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])
