"""Run one spider in this process; meant to be started by :func:`tbt_alert.crawl.runner.run_spider`.

``python -m tbt_alert.crawl.spider_main <slug> --out FILE [--arg k=v ...] [--settings-json JSON]``

Items go to FILE as JSON Lines (Scrapy FEEDS), the crawler stats to FILE.stats.json, with the peak
resident memory of this process as ``tbt/max_rss_bytes`` (a crawl must stay bounded in memory). Exit status 0
when the spider finished normally, 1 when it closed for another reason, recorded a failure
(``tbt/failure``: the spiders' own verdict, and the fetch guard's) or raised in a callback, 2 on bad
arguments. Errors that Scrapy's own middlewares log (a robots.txt or a single page that could not be
fetched) do not decide: the spider's errback does. Scrapy's reactor cannot restart, hence one
process per crawl.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader

from tbt_alert.crawl.settings import crawl_settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tbt_alert.crawl.spider_main")
    parser.add_argument("slug", help="spider name, e.g. eping")
    parser.add_argument("--out", required=True, type=Path, help="JSON Lines file for the items")
    parser.add_argument("--arg", action="append", default=[], metavar="K=V", help="spider argument")
    parser.add_argument("--settings-json", default="{}", help="Scrapy setting overrides as JSON")
    return parser.parse_args(argv)


def spider_args(pairs: Sequence[str]) -> dict[str, str]:
    args: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"spider argument {pair!r} is not K=V")
        args[key] = value
    return args


def run(slug: str, out: Path, args: dict[str, str], overrides: dict[str, Any]) -> int:
    """Crawl; write items and stats; return the exit status."""
    settings = crawl_settings(overrides)
    settings["FEEDS"] = {str(out): {"format": "jsonlines", "encoding": "utf-8", "overwrite": True}}
    spider_cls = SpiderLoader.from_settings(Settings(settings)).load(slug)
    process = CrawlerProcess(settings, install_root_handler=True)
    crawler = process.create_crawler(spider_cls)
    reasons: list[str] = []

    def closed(spider: Any, reason: str) -> None:
        reasons.append(reason)

    crawler.signals.connect(closed, signal=signals.spider_closed)
    process.crawl(crawler, **args)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats is not None else {}
    stats["tbt/max_rss_bytes"] = max_rss_bytes()
    stats_path = Path(f"{out}.stats.json")
    stats_path.write_text(json.dumps(stats, default=str, indent=1, sort_keys=True), "utf-8")
    return EXIT_OK if reasons == ["finished"] and not failed(stats) else EXIT_FAILED


def failed(stats: dict[str, Any]) -> bool:
    """A recorded failure, or an exception in a spider callback (a bug must not pass as success)."""
    return bool(stats.get("tbt/failure")) or any(k.startswith("spider_exceptions/") for k in stats)


def max_rss_bytes() -> int:
    """Peak resident set size of this process so far. On Linux from /proc (VmHWM), which starts
    afresh at exec; ``ru_maxrss`` carries over the parent's peak from the fork, so a spider started
    by a large process would report the parent's size."""
    try:
        for line in Path("/proc/self/status").read_text("ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB, bytes on macOS
    return int(peak if sys.platform == "darwin" else peak * 1024)


ORPHAN_CHECK_S = 1.0


def end_with_parent(parent: int, every_s: float = ORPHAN_CHECK_S) -> None:
    """Exit when the process that started this crawl is gone (even after its SIGKILL, which no
    handler sees): a watcher thread notices the re-parenting and ends this process group."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every_s)
        print(f"spider_main: parent process {parent} is gone; stopping", file=sys.stderr)
        sys.stderr.flush()
        if os.getpgid(0) == os.getpid():  # started in a group of its own, as the runner does
            os.killpg(os.getpid(), signal.SIGKILL)
        os._exit(EXIT_FAILED)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


def main(argv: Sequence[str] | None = None) -> int:
    end_with_parent(os.getppid())
    ns = parse_args(argv)
    try:
        args = spider_args(ns.arg)
        overrides = json.loads(ns.settings_json)
        if not isinstance(overrides, dict):
            raise ValueError("--settings-json must be a JSON object")
    except ValueError as e:
        print(f"spider_main: {e}", file=sys.stderr)
        return EXIT_USAGE
    return run(ns.slug, ns.out, args, overrides)


if __name__ == "__main__":
    sys.exit(main())
