"""Command line: train a model from a CSV file, evaluate it on another, predict one text."""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import Counter
from pathlib import Path

from .errors import ClassifierInputError, ModelLoadError
from .features import join_fields

__all__ = ["main"]

EXIT_BAD_INPUT = 2


class UsageError(Exception):
    """Bad input from the command line or the files it names: one line on stderr, exit 2."""


def _raise_csv_limit() -> None:
    # Complaint narratives run far past csv's default 128 KiB field limit.
    limit = sys.maxsize
    while True:
        try:
            csv.field_size_limit(limit)
            return
        except OverflowError:
            limit //= 2


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def read_rows(path: str, needed: list[str]) -> list[dict[str, str]]:
    """Rows of a UTF-8 CSV file as dicts, after checking that the needed columns exist."""
    _raise_csv_limit()
    file = Path(path)
    if not file.exists():
        raise UsageError(f"data file {path} does not exist")
    if not file.is_file():
        raise UsageError(f"{path} is not a file")
    try:
        with file.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames
            if not columns:
                raise UsageError(f"{path} is empty: no header row")
            missing = [c for c in needed if c not in columns]
            if missing:
                raise UsageError(
                    f"{path} has no column {', '.join(repr(c) for c in missing)}; "
                    f"its columns are: {', '.join(columns)}"
                )
            rows = [row for row in reader]
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise UsageError(f"{path} is not a readable CSV file: {exc}") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not rows:
        raise UsageError(f"{path} has a header but no data rows")
    return rows


def _columns(spec: str) -> list[str]:
    columns = [c.strip() for c in spec.split(",") if c.strip()]
    if not columns:
        raise UsageError(f"no column named in {spec!r}")
    return columns


def _examples(rows, text_columns, label_column, area_column):
    """Texts, labels and areas of the rows that have both a text and a label."""
    texts, labels, areas = [], [], []
    skipped = 0
    for row in rows:
        text = join_fields(*((row.get(c) or "") for c in text_columns))
        label = (row.get(label_column) or "").strip()
        if not text or not label:
            skipped += 1
            continue
        texts.append(text)
        labels.append(label)
        areas.append((row.get(area_column) or "").strip() or None if area_column else None)
    return texts, labels, (areas if area_column else None), skipped


def _summary(metrics: dict | None) -> dict:
    if not metrics:
        return {"n": 0, "accuracy": None, "macro_f1": None,
                "auto_route": {"threshold": None, "coverage": None, "precision": None}}
    return {key: value for key, value in metrics.items() if key != "per_class"}


def cmd_train(args) -> int:
    from .model import train_model

    text_columns = _columns(args.text)
    needed = [*text_columns, args.label, *([args.area] if args.area else [])]
    _say(f"reading {args.data}")
    rows = read_rows(args.data, needed)
    texts, labels, areas, skipped = _examples(rows, text_columns, args.label, args.area)
    if skipped:
        _say(f"skipped {skipped} rows without text or label")
    if args.min_examples > 1:
        counts = Counter(labels)
        rare = sorted((label for label, n in counts.items() if n < args.min_examples),
                      key=lambda label: (counts[label], label))
        if rare:
            shown = ", ".join(f"{label} ({counts[label]})" for label in rare[:20])
            more = f" and {len(rare) - 20} more" if len(rare) > 20 else ""
            _say(f"dropping {len(rare)} labels with fewer than {args.min_examples} rows: {shown}{more}")
            keep = [i for i, label in enumerate(labels) if counts[label] >= args.min_examples]
            texts = [texts[i] for i in keep]
            labels = [labels[i] for i in keep]
            areas = [areas[i] for i in keep] if areas is not None else None
    if not texts:
        raise UsageError(f"{args.data} has no rows with both a text and a label left to train on")
    _say(f"training on {len(texts)} rows, {len(set(labels))} labels")
    model = train_model(
        texts, labels, areas, target_precision=args.target_precision, progress=_say
    )
    model.metadata.update(
        text_columns=text_columns,
        label_column=args.label,
        area_column=args.area,
        training_file=Path(args.data).name,
        min_examples=args.min_examples,
    )
    model.save(args.out)
    _say(f"saved {args.out} and {args.out}.json")
    result = _summary(model.metadata.get("holdout"))
    result.update(model=str(args.out), version=model.version, labels=len(model.labels))
    print(json.dumps(result, ensure_ascii=False))
    return 0


def _load(path: str):
    from .io import load_model

    started = time.perf_counter()
    model = load_model(path)
    _say(f"loaded model {model.version} in {time.perf_counter() - started:.2f} s")
    return model


def cmd_evaluate(args) -> int:
    model = _load(args.model)
    text_columns = model.metadata.get("text_columns")
    label_column = model.metadata.get("label_column")
    area_column = model.metadata.get("area_column")
    if not text_columns or not label_column:
        raise UsageError(
            f"{args.model} does not record its text and label columns "
            "(it was not trained with `python -m classifier train`)"
        )
    needed = [*text_columns, label_column, *([area_column] if area_column else [])]
    _say(f"reading {args.data}")
    rows = read_rows(args.data, needed)
    texts, labels, areas, skipped = _examples(rows, text_columns, label_column, area_column)
    if skipped:
        _say(f"skipped {skipped} rows without text or label")
    if not texts:
        raise UsageError(f"{args.data} has no rows with both a text and a label")
    _say(f"evaluating on {len(texts)} rows")
    started = time.perf_counter()
    metrics = model.evaluate(texts, labels, areas)
    _say(f"evaluated in {time.perf_counter() - started:.1f} s")
    metrics.update(model=str(args.model), version=model.version)
    print(json.dumps(metrics, ensure_ascii=False))
    return 0


def cmd_predict(args) -> int:
    model = _load(args.model)
    prediction = model.predict_one(args.text, args.area, k=args.top)
    print(json.dumps({**prediction.as_dict(), "version": model.version}, ensure_ascii=False))
    return 0


def _probability(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0.0 < number <= 1.0:
        raise argparse.ArgumentTypeError(f"{value} is not in (0, 1]")
    return number


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is less than 1")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m classifier",
        description="Route citizen feedback to a field: train, evaluate, predict.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a model from a CSV file")
    train.add_argument("--data", required=True, help="UTF-8 CSV file with a header row")
    train.add_argument("--text", required=True, help="text column(s), comma-separated: title,description")
    train.add_argument("--label", required=True, help="label column")
    train.add_argument("--area", help="area column (district, ward code), optional")
    train.add_argument("--out", required=True, help="model file to write, e.g. MODEL.skops")
    train.add_argument("--target-precision", type=_probability, default=0.95,
                       help="precision the auto-routed share must reach on held-out rows")
    train.add_argument("--min-examples", type=_positive, default=1,
                       help="drop labels with fewer rows than this")
    train.set_defaults(handler=cmd_train)

    evaluate = commands.add_parser("evaluate", help="measure a model on a labelled CSV file")
    evaluate.add_argument("--model", required=True)
    evaluate.add_argument("--data", required=True)
    evaluate.set_defaults(handler=cmd_evaluate)

    predict = commands.add_parser("predict", help="predict the field of one text")
    predict.add_argument("--model", required=True)
    predict.add_argument("text")
    predict.add_argument("--area")
    predict.add_argument("--top", type=_positive, default=3, help="how many labels to list")
    predict.set_defaults(handler=cmd_predict)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (UsageError, ClassifierInputError, ModelLoadError) as exc:
        _say(f"error: {exc}")
        return EXIT_BAD_INPUT
    except OSError as exc:
        _say(f"error: {exc.strerror or exc}: {getattr(exc, 'filename', '') or ''}".rstrip(": "))
        return EXIT_BAD_INPUT
