"""JSON and text as Tally accepts them, whichever way they arrive (an API body, a query, a log line, the admin).

`json_load` refuses what one of our databases or pages cannot keep: NaN, Infinity and numbers too large for a float
(not JSON), a lone UTF-16 surrogate (not encodable as UTF-8), a NUL character (PostgreSQL's text and jsonb refuse
it while SQLite's LIKE reads it as the end of the pattern), and nesting deeper than BODY_MAX_DEPTH (Python's
encoder and the admin's pages recurse once a level). A stored JSON value is held to JSON_MAX_DEPTH and a size.
"""

import json
import math
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

# A stored JSON value nests at most JSON_MAX_DEPTH levels: deep enough for any document a client of ours keeps, far
# below recursion limits. A request body may nest BODY_MAX_DEPTH, room for the envelope around a stored value.
JSON_MAX_DEPTH = 32
BODY_MAX_DEPTH = JSON_MAX_DEPTH + 8


class JSONError(ValueError):
    """JSON text or a decoded value that Tally refuses; the message says why."""


class JSONSyntaxError(JSONError):
    """Text that is not JSON at all (not UTF-8, or not JSON's grammar), as opposed to JSON whose value is refused."""


def text_refusal(text: str) -> str | None:
    """Why a string cannot be stored or compared alike on SQLite and PostgreSQL, or None when it can."""
    if "\x00" in text:
        return "NUL characters are not allowed"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "lone UTF-16 surrogates are not allowed"
    return None


def json_value_check(value: Any, *, max_depth: int = JSON_MAX_DEPTH) -> None:
    """Raise JSONError when a decoded JSON value holds a refused string (keys too) or nests deeper than max_depth.

    Walks the value with an explicit stack, so that a deep value cannot exhaust the interpreter's recursion.
    """
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            reason = text_refusal(item)
            if reason:
                raise JSONError(reason)
        elif isinstance(item, dict | list):
            if depth > max_depth:
                raise JSONError(f"JSON nested deeper than {max_depth} levels")
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)


def _refuse_constant(name: str):
    raise JSONError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise JSONError(f"{text} is out of range")
    return number


def json_load(raw: bytes | str, *, max_depth: int = BODY_MAX_DEPTH) -> Any:
    """Decode JSON text (UTF-8 when bytes) that passes json_value_check; JSONError otherwise, JSONSyntaxError when
    the text is not JSON at all."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except UnicodeDecodeError as exc:
        raise JSONSyntaxError(f"not UTF-8: {exc}") from exc
    except RecursionError as exc:
        raise JSONError(f"JSON nested deeper than {max_depth} levels") from exc
    except JSONError:
        raise
    except ValueError as exc:
        raise JSONSyntaxError(str(exc)) from exc
    json_value_check(value, max_depth=max_depth)
    return value


@deconstructible
class StoredJSONValidator:
    """Model and form validator of a JSON column: what json_load accepts, and at most `max_chars` of JSON text, so
    that every page that shows the value can render it."""

    def __init__(self, max_chars: int):
        self.max_chars = max_chars

    def __call__(self, value: Any) -> None:
        try:
            json_value_check(value)
            size = len(json.dumps(value, allow_nan=False))
        except (JSONError, ValueError) as exc:
            raise ValidationError(str(exc), code="invalid") from exc
        if size > self.max_chars:
            raise ValidationError(f"At most {self.max_chars} characters of JSON.", code="too_long")

    def __eq__(self, other):
        return isinstance(other, StoredJSONValidator) and other.max_chars == self.max_chars
