"""Database triggers that keep the group counters (counted_*) true on every insert, update and delete of memberships,
media and comments, whatever writes them (services, bulk operations, the admin, raw SQL); then the counters and the
nested-set numbers of the rows that already exist."""

from django.db import migrations

# table -> (counter column, SQL condition on the row {row}) pairs; each matching row adds one to its group.
COUNTED = {
    "groups_membership": [("counted_members", "{row}.status = 'active'")],
    "groups_media": [
        ("counted_media", "1 = 1"),
        ("counted_media_accepted", "{row}.moderation_status = 'accepted'"),
        ("counted_media_not_denied", "{row}.moderation_status <> 'denied'"),
    ],
    "groups_comment": [
        ("counted_comments", "1 = 1"),
        ("counted_comments_accepted", "{row}.moderation_status = 'accepted'"),
        ("counted_comments_not_denied", "{row}.moderation_status <> 'denied'"),
    ],
}
WATCHED = {"groups_membership": "status, group_id", "groups_media": "moderation_status, group_id",
           "groups_comment": "moderation_status, group_id"}  # fmt: skip


def _apply(row: str, sign: str, counters) -> str:
    sets = ", ".join(
        f"{column} = {column} {sign} CASE WHEN {condition.format(row=row)} THEN 1 ELSE 0 END"
        for column, condition in counters
    )
    return f"UPDATE groups_group SET {sets} WHERE id = {row}.group_id;"


def _postgresql(table: str, counters) -> list[str]:
    function = f"{table}_count"
    return [
        f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN {_apply("OLD", "-", counters)} END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN {_apply("NEW", "+", counters)} END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql""",
        f"""CREATE TRIGGER {function} AFTER INSERT OR DELETE OR UPDATE OF {WATCHED[table]} ON {table}
FOR EACH ROW EXECUTE FUNCTION {function}()""",
    ]


def _sqlite(table: str, counters) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_count_insert AFTER INSERT ON {table} BEGIN {_apply('NEW', '+', counters)} END",
        f"CREATE TRIGGER {table}_count_delete AFTER DELETE ON {table} BEGIN {_apply('OLD', '-', counters)} END",
        f"CREATE TRIGGER {table}_count_update AFTER UPDATE OF {WATCHED[table]} ON {table} "
        f"BEGIN {_apply('OLD', '-', counters)} {_apply('NEW', '+', counters)} END",
    ]


def _drop(vendor: str, table: str) -> list[str]:
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_count ON {table}", f"DROP FUNCTION IF EXISTS {table}_count()"]
    return [f"DROP TRIGGER IF EXISTS {table}_count_{op}" for op in ("insert", "delete", "update")]


def _backfill(counters_by_table) -> str:
    sets = []
    for table, counters in counters_by_table.items():
        for column, condition in counters:
            cond = condition.format(row="r")
            sets.append(f"{column} = (SELECT COUNT(*) FROM {table} r WHERE r.group_id = groups_group.id AND {cond})")
    return f"UPDATE groups_group SET {', '.join(sets)}"


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    make = _postgresql if connection.vendor == "postgresql" else _sqlite
    with connection.cursor() as cursor:
        for table, counters in COUNTED.items():
            for statement in make(table, counters):
                cursor.execute(statement)
        cursor.execute(_backfill(COUNTED))
    from apps.groups.tree import tree_numbers_rebuild

    for vhost in apps.get_model("groups", "Group").objects.order_by("vhost").values_list("vhost", flat=True).distinct():
        tree_numbers_rebuild(vhost=vhost)


def backwards(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for table in COUNTED:
            for statement in _drop(connection.vendor, table):
                cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("groups", "0004_newspark_media_comments_tree_counters")]

    operations = [migrations.RunPython(forwards, backwards)]
