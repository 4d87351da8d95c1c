import secrets

from django.core.management.base import BaseCommand
from django.db import transaction

from apps.common.models import ApiKey
from apps.common.services import api_key_create, api_key_revoke, user_ensure

DEMO_KEY_NAME = "make run"


class Command(BaseCommand):
    help = (
        "For a local demo: ensure a staff superuser, give it a fresh random password and a fresh sysadmin API key "
        "(revoking the previous demo key), and print both."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args, username: str, base_url: str, **options):
        password = secrets.token_urlsafe(12)
        with transaction.atomic():
            user = user_ensure(username=username, sysadmin=True)
            user.set_password(password)
            user.save(update_fields=["password"])
            for old_key in ApiKey.objects.filter(user=user, name=DEMO_KEY_NAME, revoked=False):
                api_key_revoke(api_key=old_key)
            _, raw_key = api_key_create(user=user, name=DEMO_KEY_NAME)
        self.stdout.write(f"Admin login:       {username} / {password}  ({base_url}/admin/)")
        self.stdout.write(f"Sysadmin API key:  {raw_key}")
        self.stdout.write(f"Try:               curl -H 'Authorization: Token {raw_key}' {base_url}/api/v1/auth/whoami/")
