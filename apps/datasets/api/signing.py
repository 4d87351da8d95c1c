"""Signed, expiring URLs of dataset files: the token names the file and is signed with the project's secret
(django.core.signing, with a salt per direction), and expires DATASETS_URL_MAX_AGE_SECONDS after issue."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from apps.common.exceptions import PermissionDeniedError

UPLOAD_SALT = "datasets.upload"
DOWNLOAD_SALT = "datasets.download"


def upload_url(request, *, dataset_id: str, index: int) -> str:
    token = signing.dumps({"d": dataset_id, "i": index}, salt=UPLOAD_SALT, compress=True)
    return request.build_absolute_uri(reverse("datasets-api:input-file", kwargs={"token": token}))


def download_url(request, *, dataset_id: str, key: str, page: int = 1) -> str:
    token = signing.dumps({"d": dataset_id, "k": key}, salt=DOWNLOAD_SALT, compress=True)
    return request.build_absolute_uri(reverse("datasets-api:output-file", kwargs={"token": token, "page": page}))


def token_read(token: str, *, salt: str) -> dict:
    """What a token names; PermissionDeniedError when it was not signed by us or has expired."""
    try:
        return signing.loads(token, salt=salt, max_age=settings.DATASETS_URL_MAX_AGE_SECONDS)
    except signing.SignatureExpired:
        raise PermissionDeniedError("The URL has expired", code="expired") from None
    except signing.BadSignature:
        raise PermissionDeniedError("The URL's signature does not match", code="signature") from None
