"""Nested-set numbers (Newspark treeleft/treeright) of every group in its vhost's tree, and the types of its
ancestors (the groupType filter leaves out a group below one of another type), kept on every tree write.

The tree itself is the parent column (django-tree-queries); the numbers are derived from it so that tree order and
"all descendants of X" are one indexed range. Each vhost is one forest: its roots are its groups with no parent in
the same vhost, siblings come in (position, id) order. `Group.save` calls these: an insert placed last among its
siblings is appended (two set-based shifts), anything else renumbers the whole vhost in one statement.
"""

from django.db import connection
from django.db.models import Q

from apps.groups.models import Group

# Two keys of pg_advisory_xact_lock: this module's, then the vhost; concurrent tree writes to a vhost queue on it.
TREE_LOCK = 0x7472_6565


def _lock(vhost: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [TREE_LOCK, vhost])


def _pad(column: str, width: int) -> str:
    if connection.vendor == "postgresql":
        return f"lpad(CAST({column} AS text), {width}, '0')"
    return f"printf('%%0{width}d', {column})"  # %% survives the driver's parameter formatting


def _rebuild_sql() -> str:
    key = f"{_pad('g.position', 10)} || {_pad('g.id', 19)}"
    return f"""
WITH RECURSIVE walk(id, parent, depth, path, ancestor_types, own_type) AS (
    SELECT g.id, CAST(NULL AS bigint), 0, {key}, 0, g.group_type
    FROM groups_group g
    WHERE g.vhost = %(vhost)s
      AND NOT EXISTS (SELECT 1 FROM groups_group p WHERE p.id = g.parent_id AND p.vhost = g.vhost)
    UNION ALL
    SELECT g.id, w.id, w.depth + 1, w.path || '/' || {key}, w.ancestor_types | (1 << w.own_type), g.group_type
    FROM walk w JOIN groups_group g ON g.parent_id = w.id AND g.vhost = %(vhost)s
),
closure(ancestor, node) AS (
    SELECT parent, id FROM walk WHERE parent IS NOT NULL
    UNION ALL
    SELECT w.parent, c.node FROM closure c JOIN walk w ON w.id = c.ancestor WHERE w.parent IS NOT NULL
),
sizes AS (SELECT ancestor AS id, COUNT(*) AS descendants FROM closure GROUP BY ancestor),
numbers AS (
    SELECT w.id, 2 * (ROW_NUMBER() OVER (ORDER BY w.path) - 1) - w.depth + 1 AS lft,
           COALESCE(s.descendants, 0) AS descendants, w.ancestor_types
    FROM walk w LEFT JOIN sizes s ON s.id = w.id
)
UPDATE groups_group SET tree_left = numbers.lft, tree_right = numbers.lft + 2 * numbers.descendants + 1,
    tree_ancestor_types = numbers.ancestor_types
FROM numbers WHERE groups_group.id = numbers.id
"""


def tree_numbers_rebuild(*, vhost: int) -> None:
    """Renumber every group of `vhost` from the parent column, in one statement. Idempotent."""
    _lock(vhost)
    with connection.cursor() as cursor:
        cursor.execute(_rebuild_sql(), {"vhost": vhost})


def tree_numbers_append(*, group: Group) -> None:
    """Number a just-inserted group. Placed last among its siblings, it takes its parent's right number (or the
    vhost's next one) and the groups to its right shift by two; placed anywhere else, the vhost is renumbered."""
    _lock(group.vhost)
    in_vhost = Group.objects.filter(vhost=group.vhost).exclude(pk=group.pk)
    parent = (
        in_vhost.filter(pk=group.parent_id).values("tree_right", "tree_ancestor_types", "group_type").first()
        if group.parent_id
        else None
    )
    # Siblings in this vhost's forest: the parent's other children, or every root (no parent in this vhost).
    siblings = in_vhost.filter(parent_id=group.parent_id) if parent else in_vhost.exclude(parent__vhost=group.vhost)
    later = Q(position__gt=group.position) | Q(position=group.position, pk__gt=group.pk)
    if siblings.filter(later).exists():
        tree_numbers_rebuild(vhost=group.vhost)
        return
    if parent is not None:
        point = parent["tree_right"]
    else:
        point = (in_vhost.order_by("-tree_right").values_list("tree_right", flat=True).first() or 0) + 1
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE groups_group SET tree_right = tree_right + 2 WHERE vhost = %s AND tree_right >= %s AND id <> %s",
            [group.vhost, point, group.pk],
        )
        cursor.execute(
            "UPDATE groups_group SET tree_left = tree_left + 2 WHERE vhost = %s AND tree_left >= %s AND id <> %s",
            [group.vhost, point, group.pk],
        )
    ancestor_types = parent["tree_ancestor_types"] | (1 << parent["group_type"]) if parent else 0
    Group.objects.filter(pk=group.pk).update(tree_left=point, tree_right=point + 1, tree_ancestor_types=ancestor_types)
    group.tree_left, group.tree_right, group.tree_ancestor_types = point, point + 1, ancestor_types
