"""x-authenticated-user-token: JWTs signed as Sunbird's identity provider signs them, or the user's own API key."""

import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import override_settings

CREATE = "/api/group/v1/create"
SECRET = "a-test-secret-of-at-least-32-bytes!!"


def _claims(person, **overrides) -> dict:
    return {"sub": f"f:5a8a3f2b-3409-42e0-9001-f913bc0fde31:{person.id}", "exp": int(time.time()) + 300, **overrides}


def _rsa_pair() -> tuple[bytes, str]:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem, public_pem.decode()


@override_settings(SUNBIRD_JWT_HS256_SECRET=SECRET)
def test_an_hs256_token_names_the_user_by_the_last_segment_of_sub(sunbird, u1):
    token = jwt.encode(_claims(u1), SECRET, algorithm="HS256")

    status, body = sunbird.call("post", CREATE, {"request": {"name": "Maths"}}, user_token=token)

    assert status == 200
    _, read = sunbird.call("get", f"/api/group/v1/read/{body['result']['groupId']}", user_token=u1.token)
    assert read["result"]["createdBy"] == u1.id


def test_an_rs256_token_verified_by_any_configured_public_key(sunbird, u1):
    private_pem, public_pem = _rsa_pair()
    _, other_public_pem = _rsa_pair()
    token = jwt.encode(_claims(u1), private_pem, algorithm="RS256")

    with override_settings(SUNBIRD_JWT_RS256_PUBLIC_KEYS=other_public_pem + public_pem):
        status, _ = sunbird.call("post", CREATE, {"request": {"name": "Maths"}}, user_token=token)

    assert status == 200


@override_settings(SUNBIRD_JWT_HS256_SECRET=SECRET)
@pytest.mark.parametrize(
    "make_token",
    [
        lambda person: jwt.encode(_claims(person, exp=int(time.time()) - 10), SECRET, algorithm="HS256"),
        lambda person: jwt.encode(_claims(person), "another-secret-of-at-least-32-bytes!", algorithm="HS256"),
        lambda person: jwt.encode({"sub": person.id}, SECRET, algorithm="HS256"),
        lambda person: jwt.encode(_claims(person, sub="f:x:00000000-0000-0000-0000-000000000000"), SECRET, "HS256"),
        lambda person: jwt.encode(_claims(person), None, algorithm="none"),
    ],
    ids=["expired", "wrong secret", "no exp", "unknown user", "unsigned"],
)
def test_a_bad_token_is_unauthorized(sunbird, u1, make_token):
    status, body = sunbird.call("post", CREATE, {"request": {"name": "Maths"}}, user_token=make_token(u1))

    assert (status, body["params"]["err"]) == (401, "GS_UNAUTHORIZED")


@override_settings(SUNBIRD_JWT_HS256_SECRET=SECRET)
def test_a_token_of_an_inactive_user_is_unauthorized(sunbird, u1):
    u1.user.is_active = False
    u1.user.save()

    status, _ = sunbird.call("post", CREATE, {"request": {"name": "M"}}, user_token=jwt.encode(_claims(u1), SECRET))

    assert status == 401


def test_both_keys_record_their_use(sunbird, u1):
    from apps.common.models import ApiKey

    sunbird.call("post", CREATE, {"request": {"name": "Maths"}}, user_token=u1.token)

    assert not ApiKey.objects.filter(last_used__isnull=True).exists()


def _token(person, **claims) -> str:
    return jwt.encode(_claims(person, **claims), SECRET, algorithm="HS256")


@override_settings(SUNBIRD_JWT_HS256_SECRET=SECRET, SUNBIRD_JWT_MAX_LIFETIME_SECONDS=3600)
@pytest.mark.parametrize(
    ("offsets", "status"),
    [
        ({"iat": 0, "exp": 3600}, 200),
        ({"iat": -3000, "exp": 300}, 200),
        ({"exp": 3500}, 200),
        ({"iat": 0, "exp": 3601}, 401),
        ({"iat": -10 * 365 * 86400, "exp": 60}, 401),
        ({"exp": 5 * 365 * 86400}, 401),
        ({"exp": 3700}, 401),
    ],
    ids=[
        "an-hour",
        "issued-50-min-ago",
        "no-iat-within",
        "an-hour-and-a-second",
        "issued-years-ago",
        "no-iat-for-years",
        "no-iat-past-the-hour",
    ],
)
def test_a_token_lives_at_most_the_configured_lifetime(sunbird, u1, offsets, status):
    # Seconds from now, taken when the test runs (a long suite must not age them).
    now = int(time.time())
    claims = {name: now + offset for name, offset in offsets.items()}

    answered, _ = sunbird.call("post", CREATE, {"request": {"name": "M"}}, user_token=_token(u1, **claims))

    assert answered == status


@override_settings(SUNBIRD_JWT_HS256_SECRET=SECRET, SUNBIRD_JWT_AUDIENCE="tally", SUNBIRD_JWT_ISSUER="https://id")
@pytest.mark.parametrize(
    ("claims", "status"),
    [
        ({"aud": "tally", "iss": "https://id"}, 200),
        ({"aud": ["other", "tally"], "iss": "https://id"}, 200),
        ({"iss": "https://id"}, 401),
        ({"aud": "tally"}, 401),
        ({"aud": "other", "iss": "https://id"}, 401),
        ({"aud": "tally", "iss": "https://elsewhere"}, 401),
    ],
    ids=["both", "audience-among-several", "no-audience", "no-issuer", "other-audience", "other-issuer"],
)
def test_a_configured_audience_and_issuer_are_required(sunbird, u1, claims, status):
    answered, _ = sunbird.call("post", CREATE, {"request": {"name": "M"}}, user_token=_token(u1, **claims))

    assert answered == status
