from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.common.exceptions import ServiceError
from apps.common.models import User
from apps.common.services import user_manager_set


class Command(BaseCommand):
    help = (
        "Make one user the manager of another's account (Sunbird's managed users: the manager may act for the "
        "account through x-authenticated-for), or end it with --clear."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True, help="The managed account.")
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--manager", help="The username of who manages it.")
        target.add_argument("--clear", action="store_true", help="Nobody manages it any more.")

    def handle(self, *args, username: str, manager: str | None, clear: bool, **options):
        users = {user.username: user for user in User.objects.filter(username__in=[username, manager])}
        for name in filter(None, (username, manager)):
            if name not in users:
                raise CommandError(f"No user {name!r}.")
        try:
            with transaction.atomic():
                user_manager_set(user=users[username], manager=None if clear else users[manager])
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"{username} is managed by {'nobody' if clear else manager}")
