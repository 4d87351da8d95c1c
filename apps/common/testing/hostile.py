"""Hostile inputs for the property tests of every parser a client reaches (tests/hostile/).

Strategies give what a careless or malicious client sends: any JSON value, wrong types, huge and negative numbers,
NaN and Infinity literals, invalid UTF-8, NUL bytes, escaped lone surrogates, nesting thousands of levels deep,
very long strings, and PHP array keys such as `filters[][]`. `body_with(template)` keeps a valid request around one
hostile part, so that the input reaches the parser's inner layers rather than only its first check.
"""

import json
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

DEEP = 5_000  # levels of nesting, far past any parser's recursion limit
LONG = 100_000  # characters of a long string

# Every code point, lone surrogates included (Hypothesis leaves those out by default).
ANY_CHARACTER = st.characters(codec=None, exclude_categories=())
NASTY_TEXTS = [
    "", " ", "\x00", "a\x00b", "\ud800", "x\udfffy", "\U0001f600", "\u202e", "\ufeff", "\ufffe", "null", "true", "NaN",
    "-Infinity", "1e999", "[]", "{}", "%", "_", "%_\\", "\\", "' OR 1=1 --", "<x>&amp;", "Ünïcödé", "0", "-1",
    "2024-02-30", "0000-00-00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "x" * 1001,
]  # fmt: skip
# Two draws in three are a known troublemaker, the third any text at all.
hostile_texts = st.one_of(
    st.sampled_from(NASTY_TEXTS), st.sampled_from(NASTY_TEXTS), st.text(ANY_CHARACTER, max_size=30)
)
HUGE_NUMBERS = [2**31, 2**63, -(2**63) - 1, 10**30, -(10**30), -1, 0, 1e308, -0.0, 5e-324, 1.5]
hostile_numbers = st.one_of(
    st.integers(), st.sampled_from(HUGE_NUMBERS), st.floats(allow_nan=True, allow_infinity=True)
)
hostile_scalars = st.one_of(st.none(), st.booleans(), hostile_numbers, hostile_texts)
# Any JSON value (and the values JSON cannot hold: NaN, Infinity, lone surrogates), a few levels deep.
json_values = st.recursive(
    hostile_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(hostile_texts, children, max_size=4),
    max_leaves=12,
)

# JSON text that goes where a value goes, and that a strict reader must refuse or read safely.
RAW_FRAGMENTS = [
    "NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1e308", "123456789012345678901234567890", "-0", "0.0e-999",
    '"\\ud800"', '"\\udfff x"', '"\\ud800\\udc00"', '"a\\u0000b"', '{"a\\u0000": 1}', '"\\x"', "'single'", "tru",
    "[" * DEEP + "]" * DEEP, '{"a":' * DEEP + "1" + "}" * DEEP, "[" * DEEP, '"' + "x" * LONG + '"',
    '{"": ""}', '{"a": 1, "a": 2}', "[1,]", "{,}", "\x00", "",
]  # fmt: skip


def json_text(value: Any, *, ascii_only: bool = True) -> str:
    """`value` as JSON text, NaN and Infinity written as their (non-JSON) literals; without `ascii_only`, strings
    are written as they are (a lone surrogate then becomes invalid UTF-8 in `to_bytes`)."""
    return json.dumps(value, allow_nan=True, ensure_ascii=ascii_only)


raw_fragments = st.one_of(
    st.sampled_from(RAW_FRAGMENTS),
    hostile_texts.map(json_text),
    hostile_scalars.map(json_text),
    json_values.map(json_text),
)


def to_bytes(text: str) -> bytes:
    """UTF-8, a lone surrogate written as its three (invalid UTF-8) bytes."""
    return text.encode("utf-8", "surrogatepass")


# Whole bodies: raw fragments, bytes that are not UTF-8, and valid JSON of the wrong shape.
raw_bodies = st.one_of(
    raw_fragments.map(to_bytes),
    st.binary(max_size=64),
    st.sampled_from([b"\xff\xfe{}", b'{"a": "\xc3"}', b"\xed\xa0\x80", b'{"a":"\x00"}', b"\n\n", b"\xef\xbb\xbf{}"]),
)

_HOLE = "\u0091hostile\u0092"


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside a template (dict keys and list indexes), the root included."""
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


def _replaced(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replaced(value[head], rest, new)}
    return [_replaced(child, rest, new) if index == head else child for index, child in enumerate(value)]


def _removed(value: Any, path: tuple) -> Any:
    head, rest = path[0], path[1:]
    if rest:
        return {**value, head: _removed(value[head], rest)} if isinstance(value, dict) else value
    if isinstance(value, dict):
        return {key: child for key, child in value.items() if key != head}
    return [child for index, child in enumerate(value) if index != head]


@st.composite
def body_with(draw, template: Any, *, whole: bool = True) -> bytes:
    """A body that is `template` as JSON with one part made hostile: a value replaced by any JSON value or by a raw
    fragment (NaN, deep nesting, an escaped lone surrogate...), a key dropped, an extra key added, or (with `whole`)
    the whole body replaced by raw bytes."""
    paths = _paths(template)
    kinds = ["value", "fragment", "fragment", "drop", "extra", *(["raw"] if whole else [])]
    kind = draw(st.sampled_from(kinds))
    if kind == "raw":
        return draw(raw_bodies)
    path = draw(st.sampled_from(paths))
    if kind == "drop" and path:
        return to_bytes(json_text(_removed(template, path)))
    if kind == "extra":
        dicts = [p for p in paths if isinstance(_at(template, p), dict)]
        where = draw(st.sampled_from(dicts)) if dicts else ()
        extra = {**_at(template, where), draw(hostile_texts): draw(json_values)} if dicts else template
        return to_bytes(json_text(_replaced(template, where, extra)))
    if kind == "value":
        return to_bytes(json_text(_replaced(template, path, draw(json_values)), ascii_only=draw(st.booleans())))
    text = json_text(_replaced(template, path, _HOLE)).replace(json.dumps(_HOLE), draw(raw_fragments), 1)
    return to_bytes(text)


def _at(value: Any, path: tuple) -> Any:
    for part in path:
        value = value[part]
    return value


def quoted(text: str) -> str:
    """Percent-encoded as a form or query string carries it, a lone surrogate as invalid UTF-8 bytes."""
    return quote(text, safe="", errors="surrogatepass")


# Argument names as PHP reads them, well formed and not: `a[]`, `a[b][c]`, empty keys, stray brackets.
PHP_SUFFIXES = ["", "[]", "[][]", "[a]", "[a][b]", "[0]", "[][x]", "[x][]", "[", "]", "[[]]", "[a]b", "[]]", "[\x00]"]


@st.composite
def php_names(draw, known: list[str]) -> str:
    base = draw(st.sampled_from(["", "[]", "filters", "sort", *known]) | st.text(ANY_CHARACTER, max_size=8))
    return base + draw(st.sampled_from(PHP_SUFFIXES))


@st.composite
def php_query(draw, known: list[str], values: st.SearchStrategy[str] | None = None) -> str:
    """A query string of PHP-style arguments: known names (possibly bracketed), hostile names and values, raw
    percent escapes that are not UTF-8 or not escapes at all."""
    values = values if values is not None else hostile_texts
    pairs = draw(
        st.lists(st.tuples(php_names(known) | st.sampled_from(known), values | hostile_numbers.map(str)), max_size=6)
    )
    parts = [f"{quoted(name)}={quoted(value)}" for name, value in pairs]
    parts += draw(st.lists(st.sampled_from(["%ZZ", "%", "%ff=1", "a=%00", "=", "&&", "%5B%5D=1", "x=%ED%A0%80"]),
                           max_size=2))  # fmt: skip
    return "&".join(draw(st.permutations(parts)))
