"""The one reader of request bodies for every dialect: a chunked body is read in full within the request size
limit (or refused), and JSON bodies decode through apps.common.safe_json.json_load, whose refusals each dialect
answers in its own error shape.
"""

import io

from django.core.handlers.wsgi import LimitedStream
from rest_framework import exceptions
from rest_framework.parsers import BaseParser, JSONParser

from apps.common.safe_json import JSONError, json_load, text_refusal

READ_CHUNK_BYTES = 64 * 1024


class BodyRefused(Exception):
    """A request body that cannot be read: `status` and `code` say why (411 length_required, 413 too large)."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def is_chunked(meta: dict) -> bool:
    return "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower()


def chunked_body_install(request, *, limit: int) -> None:
    """Read a chunked request body in full, at most `limit` bytes, and make it the request's body, so that every
    parser and view reads it as if it had come with a Content-Length.

    Only a server that has decoded the chunks itself can give them (it says so with `wsgi.input_terminated`, as
    gunicorn does); on any other (Django's development server) the body cannot be read and is refused with 411,
    never taken as empty. BodyRefused past `limit` (413) or without a readable body (411).
    """
    if not request.META.get("wsgi.input_terminated"):
        raise BodyRefused(
            411, "length_required", "This server cannot read a chunked body: send it with a Content-Length."
        )
    stream, parts, size = request.META["wsgi.input"], [], 0
    while size <= limit:
        part = stream.read(min(READ_CHUNK_BYTES, limit + 1 - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    body = b"".join(parts)
    if len(body) > limit:
        raise BodyRefused(413, "request_too_large", f"Request body too large: over the limit of {limit} bytes.")
    # Django wraps wsgi.input with the Content-Length it was given (none: an empty body); replace that stream.
    request._stream = LimitedStream(io.BytesIO(body), len(body))
    request.META["CONTENT_LENGTH"] = str(len(body))


def url_text_check(*, values) -> None:
    """ParseError (each dialect's 400) when a path or query value holds text that json_load would refuse: a NUL
    that PostgreSQL cannot compare while SQLite truncates at it."""
    for value in values:
        reason = text_refusal(value) if isinstance(value, str) else None
        if reason:
            raise exceptions.ParseError(f"Invalid URL: {reason}.")


class StrictJSONParser(JSONParser):
    """DRF's JSON parser on json_load: a refused body is a ParseError, which each dialect maps to its own 400."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return json_load(stream.read())
        except JSONError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc


class RawBodyParser(BaseParser):
    """Keeps the body as bytes, whatever its content type: the dialect or view decides what it means (and which
    error a bad body gets)."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read() if stream is not None else b""
