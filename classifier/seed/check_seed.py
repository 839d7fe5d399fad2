#!/usr/bin/env python3
"""Validate classifier/seed/seed_vi.csv.

Checks that the file is UTF-8, that every row parses as RFC 4180 CSV with
exactly the columns ``text,category``, that every category is one of the 12
field codes, that each field has at least MIN_PER_FIELD rows, and that no text
is duplicated (exactly, or after lower-casing, stripping diacritics and
collapsing whitespace). Prints the counts per field; exits non-zero on error.

Usage: python classifier/seed/check_seed.py [path/to/seed_vi.csv]
"""
import collections
import csv
import sys
import unicodedata
from pathlib import Path

CATEGORIES = (
    "land", "environment", "traffic", "urban_order", "construction",
    "electricity", "water", "public_order", "health", "education",
    "admin_procedures", "social_welfare",
)
MIN_PER_FIELD = 50
MAX_TEXT_CHARS = 1000


def _fold(text):
    """Lower-case, drop diacritics (đ -> d) and collapse whitespace."""
    text = text.lower().replace("đ", "d")
    text = "".join(c for c in unicodedata.normalize("NFD", text)
                   if unicodedata.category(c) != "Mn")
    return " ".join(text.split())


def check(path):
    errors = []
    raw = Path(path).read_bytes()
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [f"not valid UTF-8: {exc}"], collections.Counter()
    if content.startswith("\ufeff"):
        errors.append("file starts with a BOM")
    reader = csv.reader(content.splitlines(keepends=True), strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        return [f"cannot read header: {exc}"], collections.Counter()
    if header != ["text", "category"]:
        errors.append(f"header is {header!r}, expected ['text', 'category']")
    counts = collections.Counter()
    seen_exact, seen_folded = {}, {}
    try:
        for row in reader:
            line = reader.line_num
            if len(row) != 2:
                errors.append(f"line {line}: {len(row)} fields, expected 2")
                continue
            text, category = row
            if category not in CATEGORIES:
                errors.append(f"line {line}: unknown category {category!r}")
            if not text.strip():
                errors.append(f"line {line}: empty text")
                continue
            if text != text.strip() or "\n" in text or "\r" in text:
                errors.append(f"line {line}: text has surrounding whitespace or a line break")
            if len(text) > MAX_TEXT_CHARS:
                errors.append(f"line {line}: text longer than {MAX_TEXT_CHARS} characters")
            if unicodedata.normalize("NFC", text) != text:
                errors.append(f"line {line}: text is not NFC-normalised")
            if text in seen_exact:
                errors.append(f"line {line}: duplicate of line {seen_exact[text]}")
            elif _fold(text) in seen_folded:
                errors.append(f"line {line}: same text as line {seen_folded[_fold(text)]} "
                              "apart from case/diacritics/spacing")
            seen_exact.setdefault(text, line)
            seen_folded.setdefault(_fold(text), line)
            counts[category] += 1
    except csv.Error as exc:
        errors.append(f"line {reader.line_num}: CSV parse error: {exc}")
    for category in CATEGORIES:
        if counts[category] < MIN_PER_FIELD:
            errors.append(f"{category}: {counts[category]} rows, need at least {MIN_PER_FIELD}")
    return errors, counts


def main(argv):
    path = argv[1] if len(argv) > 1 else Path(__file__).with_name("seed_vi.csv")
    errors, counts = check(path)
    for category in CATEGORIES:
        print(f"{category:18} {counts[category]:4d}")
    print(f"{'total':18} {sum(counts.values()):4d}")
    for err in errors:
        print("ERROR:", err, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
