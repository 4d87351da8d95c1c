"""What tests know about every dialect's wire: the shape of its errors, and how a server hands Django a chunked body."""

import io
from collections.abc import Callable, Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from apps.common.api.ckan import CKAN
from apps.common.api.dialects import Dialect
from apps.common.api.edx_analytics import EdxAnalytics
from apps.common.api.learnosity import Learnosity
from apps.common.api.native import Native
from apps.common.api.newspark import Newspark
from apps.common.api.sunbird import Sunbird
from apps.common.api.sunbird_agg import SunbirdAggregator
from apps.common.api.sunbird_platform import SunbirdPlatform

# A new dialect adds its rule here; a dialect derived from another (LearnosityFiles) shares its parent's rule.
ERROR_SHAPES: dict[type[Dialect], Callable[[Any], bool]] = {
    Native: lambda body: {"detail", "code"} <= set(body),
    Sunbird: lambda body: body["params"]["status"] == "failed" and body["result"] == {},
    SunbirdPlatform: lambda body: body["params"]["status"] == "failed" and body["params"]["errmsg"],
    SunbirdAggregator: lambda body: body["responseCode"] != "OK" and body["params"]["errmsg"],
    EdxAnalytics: lambda body: set(body) == {"detail"},
    CKAN: lambda body: body["success"] is False and "__type" in body["error"],
    Newspark: lambda body: body["status"] is False and {"code", "message"} <= set(body["error"]),
    Learnosity: lambda body: body["meta"]["status"] is False and bool(body["meta"]["message"]) and body["data"] is None,
}


def error_shape_holds(dialect: type[Dialect], body: Any) -> bool:
    """Whether `body` (parsed JSON) is an error in the dialect's own shape."""
    rule = next(ERROR_SHAPES[klass] for klass in dialect.__mro__ if klass in ERROR_SHAPES)
    return bool(rule(body))


def chunked_send(client, method: str, path: str, body: bytes, *, decoded_by_server: bool = True, **headers):
    """Send `body` as a server hands a chunked request to Django: no Content-Length, and the chunks already joined
    when the server decodes them (gunicorn says so with wsgi.input_terminated)."""
    extra = {"CONTENT_LENGTH": "", "HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(body), **headers}
    if decoded_by_server:
        extra["wsgi.input_terminated"] = True
    return client.generic(method.upper(), path, body, content_type="application/json", **extra)


def api_routes(patterns=None, namespace: str = "", prefix: str = "") -> Iterator[tuple[str, str, type | None]]:
    """Every named route under api/: its namespaced name, its path pattern and its DRF view class (None for others)."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        path = prefix + str(pattern.pattern).lstrip("^")
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from api_routes(pattern.url_patterns, inner, path)
        elif isinstance(pattern, URLPattern) and pattern.name and path.startswith("api/"):
            yield f"{namespace}{pattern.name}", path, getattr(pattern.callback, "cls", None)
