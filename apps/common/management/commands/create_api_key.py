from django.core.management.base import BaseCommand
from django.db import transaction

from apps.common.services import api_key_create, user_ensure


class Command(BaseCommand):
    help = (
        "Create an API key for a user (created when absent). Prints user_id=<public UUID>, then the raw key alone "
        "on the last line. Only the key's digest is stored."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--sysadmin", action="store_true", help="Make the user a sysadmin (superuser).")
        parser.add_argument("--name", default="cli", help="A label for the key.")

    def handle(self, *args, username: str, sysadmin: bool, name: str, **options):
        with transaction.atomic():
            user = user_ensure(username=username, sysadmin=sysadmin)
            _, raw_key = api_key_create(user=user, name=name)
        self.stdout.write(f"user_id={user.public_id}")
        self.stdout.write(raw_key)
