"""Request rates per API key, shared by every dialect (each answers a refusal, 429, in its own shape)."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from apps.common.models import ApiKey


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Counts the requests of each API key (of each user for a session, of each address when anonymous) in the
    default cache, which is Redis when TALLY_CACHE_URL is set, so that every process counts together.

    The rate is the Open edX Analytics API's: API_THROTTLE_RATE, or API_SERVICE_THROTTLE_RATE for a trusted
    service (a key marked `service`, or a key of one of API_SERVICE_USERNAMES). Rates are read per request.
    """

    scope = "api"

    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATE

    def allow_request(self, request, view) -> bool:
        self.rate = settings.API_SERVICE_THROTTLE_RATE if is_service(request) else settings.API_THROTTLE_RATE
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str:
        if isinstance(request.auth, ApiKey):
            ident = f"key-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"address-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


def is_service(request) -> bool:
    if isinstance(request.auth, ApiKey) and request.auth.service:
        return True
    return bool(request.user and request.user.is_authenticated) and (
        request.user.username in settings.API_SERVICE_USERNAMES
    )
