"""``tbt-alert daemon``: the scheduled jobs, one active instance per database."""

from __future__ import annotations

import logging
import os
from functools import partial
from zoneinfo import ZoneInfo

import click
from sqlalchemy.engine import make_url

from tbt_alert.cli.context import (
    Context,
    close_abandoned,
    database,
    make_classifier,
    make_mailer,
    pass_ctx,
)


@click.command(name="daemon")
@click.option(
    "--no-initial-run",
    is_flag=True,
    help="Do not run the cycle at start; the first one runs after one interval.",
)
@pass_ctx
def daemon_cmd(obj: Context, no_initial_run: bool) -> None:
    """Run the scheduled jobs until stopped by SIGTERM or Ctrl-C.

    \b
    Jobs ([schedule] in the configuration):
      cycle          crawl ePing, ingest, classify and send due warnings, every
                     cycle_minutes; the first run is at start (see --no-initial-run)
      daily-digest   the daily digests, at digest_hour:00 in the schedule's timezone
      weekly-digest  the weekly digests, on weekly_digest_day at digest_hour:00

    Prints the schedule (next run of each job) at start. A job that fails is logged,
    without secrets, and counted; the daemon carries on. On SIGTERM or SIGINT it waits for
    the running job (a crawl is bounded by [eping] timeout_s), prints what each job did and
    exits with status 0.

    Only one daemon runs per database (a PostgreSQL advisory lock, or a lock file next to
    the SQLite file): a second one exits at once with status 1 and says so. The database
    must be at the newest schema: run 'tbt-alert init' first, else the daemon exits with
    status 1."""
    from tbt_alert.daemon.leader import acquire_leadership
    from tbt_alert.daemon.scheduler import DaemonStatus, build_scheduler, make_jobs, serve
    from tbt_alert.store.jobruns import record_run

    logging.getLogger("tbt_alert.daemon.scheduler").setLevel(logging.INFO)
    config = obj.config
    shown_url = make_url(config.database_url).render_as_string(hide_password=True)
    with database(obj) as engine, acquire_leadership(engine) as leadership:
        click.echo(f"tbt-alert daemon, pid {os.getpid()}, database {shown_url}")
        click.echo(f"holding the {leadership.description}")
        closed = close_abandoned(engine)
        if closed:
            click.echo(f"closed {closed} crawl run(s) a stopped process left running")
        jobs = make_jobs(
            engine,
            config,
            classifier=make_classifier(config),
            mailer_factory=partial(make_mailer, config),
        )
        status = DaemonStatus()
        scheduler = build_scheduler(
            config,
            jobs,
            status=status,
            initial_run=not no_initial_run,
            record=partial(record_run, engine),
        )
        serve(
            scheduler,
            status,
            leadership=leadership,
            zone=ZoneInfo(config.schedule.timezone),
            echo=click.echo,
        )
