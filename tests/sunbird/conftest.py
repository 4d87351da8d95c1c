import json

import pytest
from rest_framework.test import APIClient

from apps.common.testing.factories import UserFactory, api_key_for


class SunbirdClient:
    """Calls the Sunbird group API as an application (its Bearer key) on behalf of a user (their token)."""

    def __init__(self, client_key: str):
        self.http = APIClient()
        self.client_key = client_key

    def call(self, method: str, path: str, body=None, *, user_token: str | None):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.client_key}"}
        if user_token is not None:
            headers["HTTP_X_AUTHENTICATED_USER_TOKEN"] = user_token
        payload = json.dumps(body) if body is not None else None
        response = getattr(self.http, method)(path, data=payload, content_type="application/json", **headers)
        return response.status_code, response.json()


@pytest.fixture
def sunbird(db):
    return SunbirdClient(api_key_for(UserFactory(username="portal-app"), name="portal"))


class Person:
    def __init__(self, username: str):
        self.user = UserFactory(username=username, first_name=username.title(), last_name="Tester")
        self.id = str(self.user.public_id)
        self.token = api_key_for(self.user)


@pytest.fixture
def u1(db):
    return Person("uone")


@pytest.fixture
def u2(db):
    return Person("utwo")


@pytest.fixture
def u3(db):
    return Person("uthree")
