"""Figures as people read them: thousands and decimals the Vietnamese or the English way, one decimal for a percentage."""
from __future__ import annotations

MISSING = "—"


def format_count(value: int | None, lang: str) -> str:
    """1.234 in Vietnamese, 1,234 in English."""
    if value is None:
        return MISSING
    text = f"{int(value):,}"
    return text.replace(",", ".") if lang == "vi" else text


def format_decimal(value: float | None, lang: str, digits: int = 1) -> str:
    """87,5 in Vietnamese, 87.5 in English; the value is rounded as the API rounds it (one decimal)."""
    if value is None:
        return MISSING
    text = f"{float(value):,.{digits}f}"
    if lang == "vi":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def format_plain(value: float | None, lang: str, digits: int = 2) -> str:
    """A figure as the API gives it, without trailing zeros: 4,25 / 4 / 12,5 (ratings, hours)."""
    if value is None:
        return MISSING
    text = format_decimal(round(float(value), digits), lang, digits)
    decimal = "," if lang == "vi" else "."
    return text.rstrip("0").rstrip(decimal) if decimal in text else text


def format_pct(value: float | None, lang: str) -> str:
    return MISSING if value is None else format_decimal(value, lang) + "%"


def format_points(delta: float | None, lang: str) -> str:
    """A change in percentage points with its sign: +2,3 / −1,0."""
    if delta is None:
        return MISSING
    sign = "+" if delta > 0 else ("−" if delta < 0 else "±")
    return sign + format_decimal(abs(delta), lang)


def data_value(value) -> str:
    """The raw figure for a data-value attribute: what a machine compares with the API ("" for none)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(round(value, 6))
    return str(value)
