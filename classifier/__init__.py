"""Routes citizen feedback to the right field: text (any language) and area in, calibrated labels out."""

from .errors import ClassifierInputError, ModelLoadError
from .features import FIELD_SEPARATOR, join_fields
from .io import load_model
from .model import Prediction, TrainedModel, train_model
from .normalize import normalize_text, strip_diacritics

__all__ = [
    "FIELD_SEPARATOR",
    "ClassifierInputError",
    "ModelLoadError",
    "Prediction",
    "TrainedModel",
    "join_fields",
    "load_model",
    "normalize_text",
    "strip_diacritics",
    "train_model",
]
