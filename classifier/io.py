"""Saving and loading models with skops and an explicit allow-list of types, never pickle."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from pathlib import Path

import sklearn
import skops
import skops.io
from skops.io.exceptions import UntrustedTypesFoundException
from sklearn.pipeline import Pipeline

from .errors import ModelLoadError

__all__ = ["TRUSTED_TYPES", "load_model", "save_model", "sidecar_path"]

# Types outside skops' default trust that a model of ours legitimately contains.
# Anything else in a file means it was not written by save_model: refuse it.
TRUSTED_TYPES = [
    "classifier.features.FeedbackVectorizer",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.model_selection._split.StratifiedKFold",
]

_FORMAT = "feedback-classifier/1"


def sidecar_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".json")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_atomically(path: Path, write) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save_model(model, path: str | Path) -> Path:
    """Write the model to PATH (skops) and its metadata to PATH.json; returns the sidecar path."""
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": _FORMAT,
        "pipeline": model.pipeline,
        # Metadata travels inside the model as well, so a sidecar can be checked against it.
        "metadata": json.dumps(model.metadata, ensure_ascii=False, sort_keys=True),
    }
    _write_atomically(
        path,
        lambda target: skops.io.dump(payload, target, compression=zipfile.ZIP_DEFLATED, compresslevel=6),
    )
    sidecar = {
        **model.metadata,
        "format": _FORMAT,
        "model_file": path.name,
        "model_sha256": _sha256(path),
        "model_bytes": path.stat().st_size,
        "sklearn_version": sklearn.__version__,
        "skops_version": skops.__version__,
        "trusted_types": TRUSTED_TYPES,
    }
    side = sidecar_path(path)

    def write_sidecar(target):
        with open(target, "w", encoding="utf-8") as handle:
            json.dump(sidecar, handle, ensure_ascii=False, indent=2, sort_keys=True)
            handle.write("\n")

    _write_atomically(side, write_sidecar)
    return side


def read_sidecar(path: str | Path) -> dict:
    side = sidecar_path(path)
    if not side.is_file():
        raise ModelLoadError(f"{side} is missing: a model is saved with its JSON sidecar")
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"cannot read the sidecar {side}: {exc}") from None
    if not isinstance(data, dict):
        raise ModelLoadError(f"the sidecar {side} is not a JSON object")
    return data


def load_model(path: str | Path):
    """Load a model written by TrainedModel.save, refusing anything it cannot vouch for."""
    from .model import TrainedModel

    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"no model file at {path}")
    sidecar = read_sidecar(path)
    saved_with = sidecar.get("sklearn_version")
    if saved_with != sklearn.__version__:
        raise ModelLoadError(
            f"{path} was saved with scikit-learn {saved_with}, but this environment has "
            f"scikit-learn {sklearn.__version__}; retrain the model with this version"
        )
    expected_sha = sidecar.get("model_sha256")
    if expected_sha and expected_sha != _sha256(path):
        raise ModelLoadError(
            f"{path} does not match its sidecar (sha256 differs): the file was changed after saving"
        )
    try:
        # One pass: load() audits every type against the allow-list before it
        # constructs anything, and reads the arrays only once.
        payload = skops.io.load(path, trusted=TRUSTED_TYPES)
    except UntrustedTypesFoundException:
        unknown = sorted(set(skops.io.get_untrusted_types(file=path)) - set(TRUSTED_TYPES))
        raise ModelLoadError(
            f"refusing to load {path}: it contains types that are not on the allow-list: "
            + ", ".join(unknown)
        ) from None
    except Exception as exc:  # a damaged zip or schema fails in many different ways
        raise ModelLoadError(f"{path} is not a readable skops model: {exc}") from None
    if (
        not isinstance(payload, dict)
        or payload.get("format") != _FORMAT
        or not isinstance(payload.get("pipeline"), Pipeline)
        or not isinstance(payload.get("metadata"), str)
    ):
        raise ModelLoadError(f"{path} is a skops file but not a feedback classifier model")
    try:
        metadata = json.loads(payload["metadata"])
    except json.JSONDecodeError as exc:
        raise ModelLoadError(f"{path} has corrupt embedded metadata: {exc}") from None
    if sidecar.get("version") != metadata.get("version"):
        raise ModelLoadError(
            f"the sidecar of {path} describes model {sidecar.get('version')!r} but the file "
            f"holds {metadata.get('version')!r}"
        )
    for column in ("text_columns", "label_column", "area_column"):
        metadata.setdefault(column, sidecar.get(column))
    return TrainedModel(payload["pipeline"], metadata=metadata)
