"""Flask CLI commands: the directory, API keys; each command is one transaction."""
from __future__ import annotations

import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from feedback_app.extensions import db
from feedback_app.services.errors import DomainError

directory_cli = AppGroup("directory", help="The directory of areas, fields, agencies and routing rules.")
users_cli = AppGroup("users", help="Staff accounts.")
calendar_cli = AppGroup("calendar", help="Decreed days off and make-up working days.")
retention_cli = AppGroup("retention", help="Erase old personal data.")
reports_cli = AppGroup("reports", help="The daily rollups behind the processing-rate reports.")
outbox_cli = AppGroup("outbox", help="Background work: notifications and their deliveries.")


@outbox_cli.command("status")
@click.option("--max-lag", type=float, default=60.0, show_default=True,
              help="Exit 1 when the recent lag's p95, or the oldest message not yet relayed, is older (seconds).")
def outbox_status(max_lag):
    """How far the workers are behind, for a monitor to run every minute (exit 1 past --max-lag). On a machine
    shared with the API, niced workers fall behind without end once it saturates: this is what shows it."""
    from feedback_app.services.outbox import backlog

    state = backlog()
    db.session.rollback()
    for name, value in state.items():
        click.echo(f"{name}\t{'' if value is None else round(value, 1) if isinstance(value, float) else value}")
    late = {name: state[name] for name in ("recent_lag_p95_seconds", "oldest_not_relayed_seconds")
            if state[name] is not None and state[name] > max_lag}
    if late:
        click.echo("behind: " + ", ".join(f"{name} {value:.0f} s" for name, value in late.items())
                   + f" (more than {max_lag:g} s)", err=True)
        sys.exit(1)


@reports_cli.command("refresh")
def reports_refresh():
    """Build every closed day not built yet and rebuild the days touched since the last refresh."""
    from feedback_app.services.report_rollups import refresh_rollups

    result = refresh_rollups()
    db.session.commit()
    click.echo(f"rebuilt {result['days']} days, {result['rows']} rollup rows")


@reports_cli.command("rebuild")
@click.option("--from", "date_from", type=click.DateTime(formats=["%Y-%m-%d"]), required=True)
@click.option("--to", "date_to", type=click.DateTime(formats=["%Y-%m-%d"]), required=True)
def reports_rebuild(date_from, date_to):
    """Rebuild the rollups of the local days FROM..TO (after a calendar change or a repair, say)."""
    from feedback_app.services.report_rollups import rebuild_days
    from feedback_app.services.reports import days_between

    if date_to < date_from:
        click.echo("--to is before --from", err=True)
        sys.exit(2)
    days = days_between(date_from.date(), date_to.date())
    rows = rebuild_days(days)
    db.session.commit()
    click.echo(f"rebuilt {len(days)} days, {rows} rollup rows")


@calendar_cli.command("set")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("kind", type=click.Choice(["day_off", "working_day"]))
@click.option("--note", default=None)
def calendar_set(day, kind, note):
    """Declare DAY (YYYY-MM-DD) a day off or a make-up working day."""
    from feedback_app.services.calendar_admin import set_day

    set_day(day=day.date(), kind=kind, note=note)
    db.session.commit()
    click.echo(f"{day.date()} {kind}")


@calendar_cli.command("remove")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
def calendar_remove(day):
    """Remove a decreed day."""
    from feedback_app.services.calendar_admin import remove_day

    try:
        remove_day(day.date())
    except DomainError:
        click.echo(f"{day.date()} is not a decreed day", err=True)
        sys.exit(1)
    db.session.commit()


@calendar_cli.command("list")
@click.option("--year", type=int, default=None)
def calendar_list(year):
    """The decreed days, in date order."""
    from feedback_app.services.calendar_admin import list_days

    for row in list_days(year):
        click.echo(f"{row.day}\t{row.kind}\t{row.note or ''}")


@retention_cli.command("run")
@click.option("--months", type=int, default=24, show_default=True)
def retention_run(months):
    """Erase the contact data of items closed more than MONTHS months ago (the statistics stay)."""
    from feedback_app.services.retention import erase_old_contacts

    erased = erase_old_contacts(months=months)
    db.session.commit()
    click.echo(f"erased the contact data of {erased} items")
apikeys_cli = AppGroup("apikeys", help="API keys for trusted clients (the app backend, Open311 clients).")


@directory_cli.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def directory_load(path: Path):
    """Load a directory YAML file: all of it or, if anything is wrong, none of it."""
    from feedback_app.services.directory_loader import DirectoryError, load_directory

    try:
        summary = load_directory(path.read_text(encoding="utf-8"), source=str(path))
    except DirectoryError as err:
        db.session.rollback()
        click.echo(f"{path}: the directory was not loaded; nothing changed.", err=True)
        for problem in err.problems:
            click.echo(f"  {path}:{problem}", err=True)
        sys.exit(1)
    except UnicodeDecodeError:
        click.echo(f"{path}: not UTF-8 text; nothing changed.", err=True)
        sys.exit(1)
    db.session.commit()
    for section, counts in summary.items():
        click.echo(f"{section}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@users_cli.command("create")
@click.argument("username")
@click.option("--role", required=True, help="officer, agency_admin, coordinator, manager or admin.")
@click.option("--agency", "agency_code", default=None, help="The agency code (officers and agency admins).")
@click.option("--password", default=None, help="Read from standard input when not given.")
@click.option("--name", "display_name", default=None)
@click.option("--email", default=None, help="Where warnings and breaches reach this person.")
def users_create(username, role, agency_code, password, display_name, email):
    """Create a staff account."""
    from feedback_app.services.auth import create_staff

    if password is None:
        password = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else click.prompt(
            "Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_staff(username=username, password=password, role=role, agency_code=agency_code,
                            display_name=display_name, email=email)
    except DomainError as err:
        db.session.rollback()
        click.echo(f"error: {err.errors or err.message_key}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"created {user.username} ({user.role}{', ' + agency_code if agency_code else ''})")


@apikeys_cli.command("create")
@click.argument("name")
@click.option("--scope", "scopes", required=True, help="Comma-separated: intake, open311, triage, reports, admin.")
def apikeys_create(name: str, scopes: str):
    """Create a key; it is printed once and only its hash is kept."""
    from feedback_app.services.clients import create_api_client

    try:
        client, raw_key = create_api_client(name=name, scopes=[s.strip() for s in scopes.split(",") if s.strip()])
    except DomainError as err:
        db.session.rollback()
        click.echo(f"error: {err.errors or err.message_key}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(raw_key)


@apikeys_cli.command("revoke")
@click.argument("name")
def apikeys_revoke(name: str):
    """Revoke a key at once."""
    from feedback_app.services.clients import revoke_api_client

    if revoke_api_client(name=name) is None:
        click.echo(f"no API client named {name}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"revoked {name}")


@apikeys_cli.command("list")
def apikeys_list():
    """Name, key prefix, scopes and state of every key."""
    from feedback_app.models import ApiClient

    for c in db.session.scalars(sa.select(ApiClient).order_by(ApiClient.id)):
        state = "revoked" if c.revoked_at else "active"
        click.echo(f"{c.name}\t{c.key_prefix}…\t{','.join(c.scopes)}\t{state}")


def register_cli(app: Flask) -> None:
    from feedback_app.cli_classifier import classifier_cli

    app.cli.add_command(directory_cli)
    app.cli.add_command(apikeys_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(calendar_cli)
    app.cli.add_command(retention_cli)
    app.cli.add_command(reports_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(classifier_cli)
