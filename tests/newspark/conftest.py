import json
from urllib.parse import urlencode

import pytest
from rest_framework.test import APIClient


class Newspark:
    """Calls the Newspark groups service as a PHP client would: arguments in the query string."""

    def __init__(self):
        self.http = APIClient()
        self.headers: dict[str, str] = {}

    def raw(self, method: str, query: str, *, transport: str = "json"):
        return self.http.get(f"/services/{transport}/groups/{method}?{query}", **self.headers)

    def call(self, method: str = "getGroups", *, transport: str = "json", **arguments):
        return self.raw(method, urlencode(arguments, doseq=True), transport=transport)

    def result(self, method: str = "getGroups", **arguments):
        response = self.call(method, **arguments)
        assert response.status_code == 200, response.content
        body = json.loads(response.content)
        assert body["status"] is True
        return body["result"]

    def ids(self, **arguments) -> list[int]:
        result = self.result(**arguments)
        return [int(item["id"]) for key, item in (result.items() if result else []) if key.isdigit()]

    def error(self, method: str = "getGroups", *, status: int, **arguments) -> dict:
        response = self.call(method, **arguments)
        assert response.status_code == status, response.content
        body = json.loads(response.content)
        assert body["status"] is False
        return body["error"]

    def as_user(self, raw_key: str) -> "Newspark":
        self.headers = {"HTTP_AUTHORIZATION": f"Token {raw_key}"}
        return self


@pytest.fixture
def newspark(db):
    return Newspark()
