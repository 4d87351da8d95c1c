"""JSON written by orjson, for the dialects whose hot reads render many rows."""

import orjson
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

_ENCODER = JSONEncoder()


def json_bytes(data) -> bytes | None:
    """`data` as DRF's compact UTF-8 JSON, byte for byte, written by orjson (an order of magnitude faster on a list
    of rows; DRF's encoder writes what orjson does not know, and every datetime, as DRF writes it); None where orjson
    cannot (an integer past 64 bits)."""
    try:
        return orjson.dumps(data, default=_ENCODER.default, option=orjson.OPT_PASSTHROUGH_DATETIME)
    except TypeError:
        return None


class FastJSONRenderer(JSONRenderer):
    """DRF's JSONRenderer, through json_bytes unless an indent is asked for or orjson cannot write the data."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is not None and self.get_indent(accepted_media_type, renderer_context or {}) is None:
            rendered = json_bytes(data)
            if rendered is not None:
                return rendered
        return super().render(data, accepted_media_type, renderer_context)
