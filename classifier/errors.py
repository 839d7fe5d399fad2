"""Errors the classifier raises for bad training data and for model files it will not load."""


class ClassifierInputError(ValueError):
    """The data given for training or evaluation cannot be used; the message says why."""


class ModelLoadError(RuntimeError):
    """A model file is missing, unreadable, untrusted or from another scikit-learn version."""
