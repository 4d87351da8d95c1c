import random

from apps.groups.models import Group
from apps.groups.tests.factories import GroupFactory
from apps.groups.tree import tree_numbers_rebuild


def expected_numbers(vhost: int) -> dict[int, tuple[int, int]]:
    """An independent nested-set numbering of the vhost's forest: a depth-first walk in (position, id) order."""
    rows = list(Group.objects.filter(vhost=vhost).values("id", "parent_id", "position"))
    ids = {row["id"] for row in rows}
    children: dict[int | None, list] = {}
    for row in rows:
        parent = row["parent_id"] if row["parent_id"] in ids else None
        children.setdefault(parent, []).append(row)
    numbers, counter = {}, [0]

    def visit(row):
        counter[0] += 1
        left = counter[0]
        for child in sorted(children.get(row["id"], []), key=lambda r: (r["position"], r["id"])):
            visit(child)
        counter[0] += 1
        numbers[row["id"]] = (left, counter[0])

    for root in sorted(children.get(None, []), key=lambda r: (r["position"], r["id"])):
        visit(root)
    return numbers


def stored_numbers(vhost: int) -> dict[int, tuple[int, int]]:
    return {
        row[0]: (row[1], row[2])
        for row in Group.objects.filter(vhost=vhost).values_list("id", "tree_left", "tree_right")
    }


def test_inserts_are_numbered_as_a_depth_first_walk(db):
    # given a tree built by inserts in random order under random parents
    rng = random.Random(7)
    groups = [GroupFactory(vhost=5)]
    for _ in range(40):
        groups.append(GroupFactory(vhost=5, parent=rng.choice([*groups, None])))
    # then the stored numbers are those of a depth-first walk
    assert stored_numbers(5) == expected_numbers(5)


def test_numbers_stay_true_after_moves_and_vhost_changes(db):
    rng = random.Random(11)
    groups = [GroupFactory(vhost=6) for _ in range(5)]
    for _ in range(30):
        groups.append(GroupFactory(vhost=6, parent=rng.choice(groups)))
    # when groups move under other parents (never under their own subtree), to the roots and to another vhost
    for group in rng.sample(groups, 10):
        group.refresh_from_db()
        below = {
            g.pk
            for g in Group.objects.filter(
                vhost=group.vhost, tree_left__gte=group.tree_left, tree_right__lte=group.tree_right
            )
        }
        group.parent = rng.choice([g for g in groups if g.pk not in below] + [None])
        group.save()
    moved = groups[3]
    moved.refresh_from_db()
    moved.vhost = 7
    moved.save()
    first = Group.objects.get(pk=groups[0].pk)
    first.position = 1_000
    first.save()
    # then both vhosts are numbered as a depth-first walk
    assert stored_numbers(6) == expected_numbers(6)
    assert stored_numbers(7) == expected_numbers(7)


def test_rebuild_is_idempotent(db):
    root = GroupFactory(vhost=8)
    GroupFactory(vhost=8, parent=root)
    before = stored_numbers(8)
    tree_numbers_rebuild(vhost=8)
    tree_numbers_rebuild(vhost=8)
    assert stored_numbers(8) == before == {root.pk: (1, 4), root.pk + 1: (2, 3)}
