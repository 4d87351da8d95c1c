from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.common.models import ApiDialect
from apps.common.services import api_key_create, user_ensure


class Command(BaseCommand):
    help = (
        "Create an API key for a user (created when absent). Prints user_id=<public UUID>, then the raw key alone "
        "on the last line. Only the key's digest is stored. Without scope flags the key may do what an ordinary "
        "user does: every dialect, reads and writes, no analytics, no ingest."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--sysadmin", action="store_true", help="Make the user a sysadmin (superuser).")
        parser.add_argument("--name", default="cli", help="A label for the key.")
        parser.add_argument(
            "--dialects",
            help=f"Comma-separated dialects the key may call (default: all of {', '.join(ApiDialect.values)}).",
        )
        parser.add_argument("--read-only", action="store_true", help="Refuse every write through this key.")
        parser.add_argument("--analytics", action="store_true", help="May read course analytics without staff.")
        parser.add_argument("--ingest", action="store_true", help="May post tracking events without staff.")
        parser.add_argument("--service", action="store_true", help="A trusted service: the service rate limit.")

    def handle(self, *args, username: str, sysadmin: bool, name: str, dialects: str | None, **options):
        scopes = {flag: options[flag] for flag in ("read_only", "analytics", "ingest", "service")}
        if dialects is not None:
            scopes["dialects"] = [part.strip() for part in dialects.split(",") if part.strip()]
        try:
            with transaction.atomic():
                user = user_ensure(username=username, sysadmin=sysadmin)
                _, raw_key = api_key_create(user=user, name=name, **scopes)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"user_id={user.public_id}")
        self.stdout.write(raw_key)
