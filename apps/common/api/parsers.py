from rest_framework.parsers import BaseParser


class RawBodyParser(BaseParser):
    """Keeps the body as bytes, whatever its content type: the dialect or view decides what it means (and which
    error a bad body gets)."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read() if stream is not None else b""
