import time

import jwt
from django.conf import settings
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication

from apps.common.key_cache import api_keys_cache_touched, key_cache_enabled
from apps.common.models import ApiKey
from apps.common.selectors import api_keys_get_usable
from apps.common.services import api_key_touch

# Read in this order; the first header present decides. CKAN/EDX clients send the first two, everyone else the last.
API_KEY_HEADERS = ("X-CKAN-API-Key", "EDX-API-Key", "Authorization")
AUTHORIZATION_SCHEMES = ("token", "bearer")


def raw_key_from_headers(headers) -> str | None:
    """The raw key a request carries, with a `Token ` or `Bearer ` scheme stripped; None when it carries none."""
    for header in API_KEY_HEADERS:
        value = headers.get(header, "").strip()
        if not value:
            continue
        scheme, _, rest = value.partition(" ")
        if rest and scheme.lower() in AUTHORIZATION_SCHEMES:
            value = rest.strip()
        return value
    return None


def api_key_authenticate(raw_key: str) -> ApiKey | None:
    """The usable key `raw_key` names, its use recorded; None when unknown, expired or revoked."""
    return api_keys_authenticate([raw_key]).get(raw_key)


def api_keys_authenticate(raw_keys: list[str]) -> dict[str, ApiKey]:
    """The usable keys among `raw_keys`, by raw key, looked up in one query; their use recorded."""
    now = timezone.now()
    api_keys = api_keys_get_usable(raw_keys=raw_keys, now=now)
    touched = [api_key for api_key in api_keys.values() if api_key_touch(api_key=api_key, now=now)]
    if touched and key_cache_enabled():
        api_keys_cache_touched(api_keys=touched)
    return api_keys


class ApiKeyAuthentication(BaseAuthentication):
    """Authenticates a request by a Tally API key in any of API_KEY_HEADERS.

    An unknown, expired or revoked key authenticates nobody: the request goes on as anonymous, and each dialect's
    permission check answers 401 or 403 in its own shape (as CKAN does).
    """

    www_authenticate_scheme = "Token"

    def authenticate(self, request):
        raw_key = raw_key_from_headers(request.headers)
        api_key = api_key_authenticate(raw_key) if raw_key else None
        return (api_key.user, api_key) if api_key else None

    def authenticate_header(self, request):
        return self.www_authenticate_scheme


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A Tally API key: raw, or as `Token <key>` or `Bearer <key>`. "
            "`X-CKAN-API-Key` and `EDX-API-Key` are read first when present.",
        }


def jwt_claims_decode(token: str, *, key: str, algorithm: str) -> dict:
    """The claims of a signed JWT that names a subject and an expiry, whose audience and issuer are the configured
    ones (each checked when configured; production requires both), and which lives at most
    SUNBIRD_JWT_MAX_LIFETIME_SECONDS: from `iat` to `exp`, or from now to `exp` without `iat`.
    Raises jwt.PyJWTError otherwise."""
    claims = jwt.decode(
        token,
        key,
        algorithms=[algorithm],
        audience=settings.SUNBIRD_JWT_AUDIENCE,
        issuer=settings.SUNBIRD_JWT_ISSUER,
        options={"require": ["sub", "exp"], "verify_aud": bool(settings.SUNBIRD_JWT_AUDIENCE)},
    )
    issued = claims.get("iat")
    start = issued if isinstance(issued, int | float) and not isinstance(issued, bool) else time.time()
    if claims["exp"] - start > settings.SUNBIRD_JWT_MAX_LIFETIME_SECONDS:
        raise jwt.InvalidTokenError("the token lives longer than SUNBIRD_JWT_MAX_LIFETIME_SECONDS")
    return claims
