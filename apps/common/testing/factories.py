import factory
from django.contrib.auth import get_user_model

from apps.common.services import api_key_create


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password("secret-pass-123")


class SysadminFactory(UserFactory):
    is_superuser = True
    is_staff = True


def api_key_for(user, *, name: str = "test", expires_at=None, **scopes) -> str:
    """A fresh raw API key for `user`, made by the real service, with the default scopes unless `scopes` say."""
    _, raw_key = api_key_create(user=user, name=name, expires_at=expires_at, **scopes)
    return raw_key
