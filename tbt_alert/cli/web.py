"""``tbt-alert web``: serve the subscriber pages, the archive and the feeds under uvicorn."""

from __future__ import annotations

import click

from tbt_alert.cli.context import Context, pass_ctx


@click.command(name="web")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=8080, show_default=True, type=click.IntRange(1, 65535), help="Port."
)
@click.option(
    "--forwarded-allow-ips",
    default="127.0.0.1",
    show_default=True,
    help="Reverse proxies whose X-Forwarded-For/-Proto headers are believed "
    "(comma-separated addresses); the rate limits count the visitor's address they give.",
)
@pass_ctx
def web_cmd(obj: Context, host: str, port: int, forwarded_allow_ips: str) -> None:
    """Serve the web app: subscribe, confirm, preferences, one-click unsubscribe, archive, feeds.

    Links in messages point at [web] public_url; put a TLS reverse proxy in front that forwards
    there. Refuses to start with the default [web] secret_key (set TBT_ALERT_SECRET_KEY)."""
    import uvicorn

    from tbt_alert.web.app import check_secret, create_app

    check_secret(obj.config)
    app = create_app(obj.config, obj.engine(migrate=True))
    click.echo(f"tbt-alert web on http://{host}:{port}/ (links say {obj.config.web.public_url})")
    uvicorn.run(
        app,
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        log_level="info" if obj.verbose else "warning",
    )
