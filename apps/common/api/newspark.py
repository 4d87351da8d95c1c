"""The Newspark / MediaFactory dialect (`/services/rest/...` XML, `/services/json/...` JSON).

Success, JSON: {"status": true, "result": <payload>}, every scalar a string ("" for none), a list as an object keyed
"0", "1", ... followed by "childGroupCount" and "totalCount" when present; an empty map is [] as PHP encodes it.
Success, XML:  <result> with an <item> per list element (after <childGroupCount>, before <totalCount>), a map as
child elements, an empty value as <x/>.
Errors: {"status": false, "error": {"code": ..., "message": ...}} and <error><code/><message/></error>; 400 for a
bad argument (the message names it), 403 for a missing permission, 404 for an unknown group, never a 500 for any
query string. Arguments come in the query string as PHP encodes them: `filters[parentGroupID]=5`, `a[]=1&a[]=2`.
Authentication is optional: a Tally API key in any of the usual headers acts as its user; without one the public
(anonymous) user reads.
"""

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from rest_framework import exceptions, renderers, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from apps.common.api.authentication import ApiKeyAuthentication
from apps.common.api.dialects import Dialect
from apps.common.api.renderers import json_bytes
from apps.common.exceptions import ServiceError

ARGUMENT = re.compile(r"^(?P<name>[^\[\]]+)(?P<keys>(?:\[[^\[\]]*\])*)$")
KEY = re.compile(r"\[([^\[\]]*)\]")
XML_NAME = re.compile(r"^[A-Za-z_][\w.-]*$")
# Characters XML 1.0 cannot carry at all: dropped from text rather than failing the response.
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
INVALID_ARGUMENT = "invalid_argument"


@dataclass
class NewsparkList:
    """A list result: its items, and the counts getGroups adds when asked."""

    items: list
    total_count: int | None = None
    child_group_count: int | None = None


def query_arguments(query_params) -> dict[str, Any]:
    """The query string as PHP reads it: `a[b]=1` a map, `a[]=1&a[]=2` a list; a plain name keeps its last value.
    A name used both plainly and with keys is a ParseError naming it."""
    arguments: dict[str, Any] = {}
    for raw_name, values in query_params.lists():
        match = ARGUMENT.match(raw_name)
        if match is None:
            raise exceptions.ParseError(f"Invalid argument name {raw_name!r}.")
        keys = KEY.findall(match["keys"])
        for value in values:
            _put(arguments, match["name"], keys, value, raw_name)
    return arguments


def _put(container: dict, name: str, keys: list[str], value: str, raw_name: str) -> None:
    if not keys:
        if isinstance(container.get(name), dict | list):
            raise exceptions.ParseError(f"Argument {raw_name!r} is given both as a value and as an array.")
        container[name] = value
        return
    key, rest = keys[0], keys[1:]
    if key == "" and not rest:
        current = container.setdefault(name, [])
        if not isinstance(current, list):
            raise exceptions.ParseError(f"Argument {raw_name!r} is given both as a value and as a list.")
        current.append(value)
        return
    child = container.setdefault(name, {})
    if not isinstance(child, dict):
        raise exceptions.ParseError(f"Argument {raw_name!r} is given both as a value and as an array.")
    _put(child, key, rest, value, raw_name)


def _float_text(value: float) -> str:
    if not math.isfinite(value):
        return ""
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


# Scalars as Newspark writes them: "" for none, "1"/"0" for booleans, floats without a trailing ".0". Looked up by
# exact type, since an item has dozens of fields and a page thousands.
SCALAR_TEXT: dict[type, Callable[[Any], str]] = {
    str: str,
    int: str,
    float: _float_text,
    bool: lambda value: "1" if value else "0",
    type(None): lambda value: "",
}


def scalar_text(value: Any) -> str:
    text = SCALAR_TEXT.get(type(value))
    return text(value) if text is not None else str(value)


def _json_list(value: NewsparkList) -> dict | list:
    result: dict[str, Any] = {str(n): _json_item(item) for n, item in enumerate(value.items)}
    if value.child_group_count is not None:
        result["childGroupCount"] = str(value.child_group_count)
    if value.total_count is not None:
        result["totalCount"] = str(value.total_count)
    return result or []


def _json_item(value: Any) -> Any:
    """An item's fields as strings; a map among them (`other`) keeps its values as they are, [] when empty."""
    if isinstance(value, NewsparkList):
        return _json_list(value)
    if not isinstance(value, dict):
        return scalar_text(value)
    fields: dict[str, Any] = {}
    for key, field in value.items():
        text = SCALAR_TEXT.get(type(field))
        if text is not None:
            fields[key] = text(field)
        elif isinstance(field, NewsparkList):
            fields[key] = _json_list(field)
        elif isinstance(field, dict | list):
            fields[key] = field or []
        else:
            fields[key] = str(field)
    return fields


class NewsparkJSONRenderer(renderers.JSONRenderer):
    format = "json"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None and response.exception:
            body = {"status": False, "error": data}
        else:
            body = {"status": True, "result": _json_item(data)}
        # A page is a hundred items of 38 fields; an integer past 64 bits in a stored map goes through DRF.
        return json_bytes(body) or super().render(body, accepted_media_type, renderer_context)


def xml_name(key: Any) -> str:
    """An element name for a map key; characters a name cannot hold become "_" (a leading digit gains one)."""
    name = re.sub(r"[^\w.-]", "_", str(key)) or "_"
    return name if XML_NAME.match(name) else f"_{name}"


class NewsparkXMLRenderer(renderers.BaseRenderer):
    """Indented two spaces a level, as the reference's samples are."""

    media_type = "application/xml"
    format = "rest"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        root = "error" if response is not None and response.exception else "result"
        out = ['<?xml version="1.0" encoding="UTF-8"?>\n']
        _xml_element(out, root, data, 0)
        return "".join(out).encode(self.charset)


def _xml_children(value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, NewsparkList):
        children = [("childGroupCount", value.child_group_count)] if value.child_group_count is not None else []
        children += [("item", item) for item in value.items]
        if value.total_count is not None:
            children.append(("totalCount", value.total_count))
        return children
    if isinstance(value, dict):
        return [(xml_name(key), item) for key, item in value.items()]
    return [("item", item) for item in value]


def _xml_element(out: list[str], name: str, value: Any, depth: int) -> None:
    indent = "  " * depth
    if isinstance(value, NewsparkList | dict | list):
        children = _xml_children(value)
        if not children:
            out.append(f"{indent}<{name}/>\n")
            return
        out.append(f"{indent}<{name}>\n")
        for child_name, child in children:
            _xml_element(out, child_name, child, depth + 1)
        out.append(f"{indent}</{name}>\n")
        return
    text = XML_INVALID.sub("", scalar_text(value))
    out.append(f"{indent}<{name}>{escape(text)}</{name}>\n" if text else f"{indent}<{name}/>\n")


class NewsparkErrorSerializer(serializers.Serializer):
    """The JSON error body (the XML one is <error><code/><message/></error>)."""

    class ErrorSerializer(serializers.Serializer):
        code = serializers.CharField()
        message = serializers.CharField()

    status = serializers.BooleanField(help_text="Always false.")
    error = ErrorSerializer()


def _validation_message(detail: Any, prefix: str = "") -> str:
    """`Invalid argument <name>: <first message>` for DRF's nested validation detail."""
    if isinstance(detail, dict):
        key, value = next(iter(detail.items()))
        name = f"{prefix}[{key}]" if prefix else str(key)
        return _validation_message(value, name)
    if isinstance(detail, list) and detail:
        return _validation_message(detail[0], prefix)
    return f"Invalid argument {prefix}: {detail}" if prefix else str(detail)


class Newspark(Dialect):
    """MediaFactory's `services/{rest,json}/<service>/<method>`: public reads, an optional API key."""

    name = "newspark"
    url_prefixes = ("/services/",)
    authentication_classes = (ApiKeyAuthentication,)
    permission_classes = (AllowAny,)
    parser_classes = ()
    renderer_classes = (NewsparkXMLRenderer, NewsparkJSONRenderer)
    error_serializer = NewsparkErrorSerializer
    arguments = staticmethod(query_arguments)

    @classmethod
    def error_response(cls, exc, context):
        if isinstance(exc, ServiceError):
            code, message, status_code = exc.code, exc.message, cls.status_of(exc)
        elif isinstance(exc, exceptions.ValidationError):
            code, message, status_code = INVALID_ARGUMENT, _validation_message(exc.detail), 400
        elif isinstance(exc, exceptions.ParseError):
            code, message, status_code = INVALID_ARGUMENT, str(exc.detail), 400
        elif isinstance(exc, exceptions.APIException):
            codes = exc.get_codes()
            code = codes if isinstance(codes, str) else "error"
            message, status_code = str(exc.detail), exc.status_code
        else:
            code, message = "server_error", "Internal server error."
            status_code = status.HTTP_500_INTERNAL_SERVER_ERROR
        response = Response({"code": code, "message": message}, status=status_code)
        response.exception = True
        return response
