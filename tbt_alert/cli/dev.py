"""``tbt-alert dev``: commands for the project's developers (the lead wires ``dev`` into the CLI)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from tbt_alert.crawl.record_fixture import MAX_BYTES, TIMEOUT_S, fetch_url, record_fixture

DEFAULT_FIXTURES = Path("tests") / "fixtures"


@click.group(name="dev")
def dev() -> None:
    """Developer tools: record live source responses as test fixtures, with their provenance."""


@dev.command(name="record-fixture")
@click.argument("source")
@click.argument("url")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_FIXTURES,
    show_default=True,
    help="Fixtures folder; the files go to OUT/SOURCE/.",
)
@click.option(
    "--name",
    default=None,
    help="File name of the body (default: taken from the URL, e.g. KOR700.pdf).",
)
@click.option("--force", is_flag=True, help="Overwrite existing files of that name.")
@click.option(
    "--keep-errors", is_flag=True, help="Record a non-2xx response instead of refusing it."
)
@click.option(
    "--timeout",
    "timeout_s",
    type=click.FloatRange(1, 300),
    default=TIMEOUT_S,
    show_default=True,
    help="Seconds to wait for the server.",
)
@click.option(
    "--max-bytes",
    type=click.IntRange(1, 256 * 1024 * 1024),
    default=MAX_BYTES,
    show_default=True,
    help="Refuse a body larger than this.",
)
def record_fixture_cmd(
    source: str,
    url: str,
    out: Path,
    name: str | None,
    force: bool,
    keep_errors: bool,
    timeout_s: float,
    max_bytes: int,
) -> None:
    """Fetch URL live and save it as tests/fixtures/SOURCE/NAME with NAME's .meta.json.

    The meta file records the URL, the UTC time of the fetch, the status, selected headers, the
    body's SHA-256 and "reconstructed": false, so a reconstructed fixture can be replaced by a real
    recording. Needs the machine to be online; http(s) only; never overwrites without --force."""
    try:
        recording = record_fixture(
            source,
            url,
            root=out,
            now=datetime.now(UTC),
            name=name,
            force=force,
            keep_errors=keep_errors,
            fetch=lambda target: fetch_url(target, timeout_s=timeout_s, max_bytes=max_bytes),
        )
    except ValueError as e:
        raise click.BadParameter(str(e)) from e
    except FileExistsError as e:
        raise click.ClickException(str(e)) from e
    meta = recording.meta
    click.echo(
        f"recorded {recording.path} ({meta['size']} bytes, HTTP {meta['status']}, "
        f"sha256 {meta['sha256'][:12]}) and {recording.meta_path.name}"
    )
