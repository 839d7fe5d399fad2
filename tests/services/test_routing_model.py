"""The routing model in the service: sure predictions route, unsure ones and failures go to triage, swaps need no restart."""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
import sqlalchemy as sa

from feedback_app.extensions import db
from feedback_app.models import ClassifierModel, FeedbackItem
from feedback_app.services import classification, model_registry
from tests.conftest import process_env, PROJECT_ROOT


@pytest.fixture(scope="session")
def seed_model_file(tmp_path_factory):
    """The shipped seed corpus, trained once per run (a few seconds)."""
    from classifier import train_model

    texts, labels = [], []
    import csv

    with open(model_registry.SEED_CORPUS, encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            texts.append(row["text"])
            labels.append(row["category"])
    model = train_model(texts, labels)
    path = tmp_path_factory.mktemp("models") / f"{model.version}.skops"
    model.save(str(path))
    return path


@pytest.fixture
def active_seed_model(app, seed_model_file, monkeypatch):
    monkeypatch.setattr(classification, "CHECK_EVERY_SECONDS", 0.0)
    with app.app_context():
        row = model_registry.register_model(seed_model_file)
        model_registry.activate_model(row.version)
        db.session.commit()
        return row.version


def submit(client, text):
    return client.post("/api/v1/feedback", json={"description": text, "address": "phường Suối Hoa, TP Bắc Ninh"})


def stored(app, code):
    with app.app_context():
        return db.session.scalar(sa.select(FeedbackItem).where(FeedbackItem.tracking_code == code))


def test_a_sure_prediction_routes_and_the_item_keeps_it(client, app, active_seed_model):
    body = submit(client, "Cống thoát nước ngõ 5 bị tắc, mưa xuống là ngập hết cả ngõ, nước tràn vào nhà").get_json()
    assert body["status"] == "routed" and body["category"]["code"] == "water"
    item = stored(app, body["tracking_code"])
    assert item.routed_by == "classifier" and item.predicted_category == "water"
    assert 0 < item.prediction_probability <= 1 and item.model_version == active_seed_model


def test_text_without_diacritics_routes_like_with(client, active_seed_model):
    with_marks = submit(client, "Đèn đường trước cổng chợ bị hỏng cả tuần nay, tối đi rất nguy hiểm").get_json()
    without = submit(client, "Den duong truoc cong cho bi hong ca tuan nay, toi di rat nguy hiem").get_json()
    assert with_marks["category"]["code"] == without["category"]["code"] == "electricity"


def test_an_unsure_prediction_goes_to_triage_but_keeps_the_guess(client, app, active_seed_model):
    body = submit(client, "Tôi muốn hỏi một việc, mong được trả lời sớm.").get_json()
    assert body["status"] == "needs_triage" and body["agency"] is None
    item = stored(app, body["tracking_code"])
    assert item.predicted_category is not None and item.prediction_probability < 0.95
    assert item.model_version == active_seed_model


def test_a_broken_model_file_sends_items_to_triage_and_intake_goes_on(client, app, seed_model_file, tmp_path, monkeypatch):
    monkeypatch.setattr(classification, "CHECK_EVERY_SECONDS", 0.0)
    broken = tmp_path / "broken.skops"
    shutil.copy(seed_model_file, broken)
    shutil.copy(f"{seed_model_file}.json", f"{broken}.json")
    with app.app_context():
        row = model_registry.register_model(broken)
        model_registry.activate_model(row.version)
        db.session.commit()
    broken.write_bytes(b"not a model at all")
    classification.active_model.reset()
    response = submit(client, "Cống thoát nước ngõ 5 bị tắc, mưa xuống là ngập hết cả ngõ")
    assert response.status_code == 201 and response.get_json()["status"] == "needs_triage"


def test_activating_another_version_needs_no_restart(client, app, active_seed_model, tmp_path):
    from classifier import train_model

    texts = ["đường ngập nước", "cống tắc ngập", "mất nước sinh hoạt", "nước bẩn có mùi"] * 3 + \
            ["đèn đường hỏng", "mất điện cả ngày", "dây điện võng thấp", "cột điện nghiêng"] * 3
    labels = ["water"] * 12 + ["electricity"] * 12
    other = train_model(texts, labels)
    path = tmp_path / f"{other.version}.skops"
    other.save(str(path))
    assert submit(client, "Đèn đường trước cổng chợ bị hỏng cả tuần nay").get_json()
    with app.app_context():
        row = model_registry.register_model(path)
        model_registry.activate_model(row.version)
        db.session.commit()
    body = submit(client, "Đèn đường trước cổng chợ bị hỏng cả tuần nay").get_json()
    assert stored(app, body["tracking_code"]).model_version == other.version


def test_cli_trains_from_csv_and_registers(app, tmp_path):
    data = tmp_path / "history.csv"
    rows = ["text,field"] + [f"đường ngập nước số {i},water" for i in range(12)] + \
           [f"đèn đường hỏng số {i},electricity" for i in range(12)]
    data.write_text("\n".join(rows), encoding="utf-8")
    env = process_env(app, MODEL_DIR=str(tmp_path / "models"))
    result = subprocess.run([sys.executable, "-m", "flask", "classifier", "train", "--csv", str(data), "--label", "field",
                             "--activate"], env=env, capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stderr
    with app.app_context():
        active = db.session.scalar(sa.select(ClassifierModel).where(ClassifierModel.active.is_(True)))
        assert active is not None and active.metrics["accuracy"] is not None
    missing = subprocess.run([sys.executable, "-m", "flask", "classifier", "train", "--csv", str(data), "--label", "nope"],
                             env=env, capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert missing.returncode == 2 and "nope" in missing.stderr and "Traceback" not in missing.stderr
