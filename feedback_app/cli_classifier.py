"""`flask classifier ...`: train, register, activate and list routing models."""
from __future__ import annotations

import json
import sys

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from feedback_app.extensions import db
from feedback_app.services.errors import DomainError

classifier_cli = AppGroup("classifier", help="The routing model: train, register, activate, list.")


def _progress(message: str) -> None:
    click.echo(message, err=True)


def _fail(err: DomainError) -> None:
    db.session.rollback()
    click.echo(f"error: {json.dumps(err.errors, ensure_ascii=False) or err.message_key}", err=True)
    sys.exit(2)


@classifier_cli.command("train")
@click.option("--csv", "csv_path", type=click.Path(exists=True, dir_okay=False), help="Train from a CSV file too.")
@click.option("--text", "text_columns", default="text", show_default=True, help="Text column(s), comma-separated.")
@click.option("--label", "label_column", default="category", show_default=True)
@click.option("--history/--no-history", default=True, show_default=True,
              help="Use items whose field staff set (routes and corrections).")
@click.option("--activate", is_flag=True, help="Make the new model the active one.")
def train(csv_path, text_columns, label_column, history, activate):
    """Train a model from the service's own history and/or a CSV file, register it, and optionally activate it."""
    from feedback_app.services import model_registry

    texts, labels, areas = [], [], []
    try:
        if history:
            t, l, a = model_registry.history_examples()
            click.echo(f"history: {len(t)} labelled items", err=True)
            texts, labels, areas = t, l, a
        if csv_path:
            t, l = model_registry.csv_examples(csv_path, text_columns=text_columns.split(","), label_column=label_column)
            click.echo(f"{csv_path}: {len(t)} rows", err=True)
            texts, labels, areas = texts + t, labels + l, areas + [None] * len(t)
        row = model_registry.train_and_register(
            texts=texts, labels=labels, areas=areas if any(areas) else None,
            model_dir=current_app.config["MODEL_DIR"], activate=activate, progress=_progress,
        )
    except DomainError as err:
        _fail(err)
    db.session.commit()
    click.echo(json.dumps({"version": row.version, "active": row.active, "path": row.path, **row.metrics}, ensure_ascii=False))


@classifier_cli.command("register")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--activate", is_flag=True)
def register(path, activate):
    """Register a model file made by `python -m classifier train`."""
    from classifier import ModelLoadError
    from feedback_app.services import model_registry

    try:
        row = model_registry.register_model(path)
        if activate:
            model_registry.activate_model(row.version)
    except ModelLoadError as err:
        db.session.rollback()
        click.echo(f"error: {err}", err=True)
        sys.exit(2)
    db.session.commit()
    click.echo(row.version)


@classifier_cli.command("activate")
@click.argument("version")
def activate(version):
    """Activate a registered version: every process follows within seconds, no restart."""
    from feedback_app.services import model_registry

    try:
        model_registry.activate_model(version)
    except DomainError as err:
        _fail(err)
    db.session.commit()
    click.echo(f"active: {version}")


@classifier_cli.command("list")
def list_models():
    """Registered versions, the active one marked."""
    from feedback_app.models import ClassifierModel

    for row in db.session.scalars(sa.select(ClassifierModel).order_by(ClassifierModel.created_at)):
        auto = row.metrics.get("auto_route", {}) if isinstance(row.metrics, dict) else {}
        click.echo(f"{'*' if row.active else ' '} {row.version}\taccuracy={row.metrics.get('accuracy')}\t"
                   f"auto_route_coverage={auto.get('coverage')}\t{row.path}")


@classifier_cli.command("ensure-default")
def ensure_default():
    """Train and activate the model of the shipped seed corpus when no model is active (make run does this)."""
    from feedback_app.services import model_registry

    row = model_registry.ensure_default_model(model_dir=current_app.config["MODEL_DIR"], progress=_progress)
    db.session.commit()
    click.echo(f"default model {row.version} trained and active" if row else "a model is already active")
