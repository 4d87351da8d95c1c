"""Demo groups: organisations > departments > classes, with teachers, learners and course activities."""

import random
import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from django.utils.text import slugify

from apps.common.demo import DEMO_COURSE_IDS
from apps.groups.models import Activity, Group, MemberRole, Membership
from apps.groups.tree import tree_numbers_rebuild

DEMO_SLUG_PREFIX = "demo-"
ORGANISATIONS = ["Northfield Academy", "Lakeside College", "Riverside School", "Hillcrest Institute",
                 "Bayview Learning", "Summit University"]  # fmt: skip
DEPARTMENTS = ["Mathematics", "Sciences", "Humanities", "Languages", "Computing"]
CITIES = [("Oslo", "NO", 59.91, 10.75), ("Toronto", "CA", 43.65, -79.38), ("Nairobi", "KE", -1.29, 36.82),
          ("Lyon", "FR", 45.76, 4.84), ("Pune", "IN", 18.52, 73.86), ("Austin", "US", 30.27, -97.74)]  # fmt: skip
CLASSES_PER_DEPARTMENT = 9


def _new_group(*, name: str, parent: Group | None, creator, created_at, rng: random.Random, city) -> Group:
    public_id = uuid.UUID(int=rng.getrandbits(128), version=4)
    return Group(
        public_id=public_id,
        name=name,
        slug=f"{DEMO_SLUG_PREFIX}{slugify(name)[:70]}-{public_id.hex[:6]}",
        description=f"{name}: a demo group.",
        parent=parent,
        created_by=creator,
        updated_by=creator,
        owner=creator,
        created_at=created_at,
        updated_at=created_at + timedelta(days=rng.randint(0, 30)),
        status=rng.choices(["active", "suspended"], weights=[19, 1])[0],
        type=rng.choice(["group", "group", "workspace"]),
        open_access=rng.random() < 0.3,
        group_reviewed=rng.random() < 0.5,
        project_number=f"P-{rng.randint(1000, 9999)}",
        city=city[0],
        country=city[1],
        latitude=round(city[2] + rng.uniform(-0.05, 0.05), 5),
        longitude=round(city[3] + rng.uniform(-0.05, 0.05), 5),
    )


def demo_groups_seed(*, progress) -> int:
    """Create the demo tree once (about 300 groups); a second run finds it and adds nothing. Returns rows added."""
    if Group.objects.filter(slug__startswith=DEMO_SLUG_PREFIX).exists():
        return 0
    rng = random.Random(20261123)
    user_model = get_user_model()
    unusable = make_password(None)
    user_model.objects.bulk_create(
        (
            user_model(
                username=f"teacher{n:02d}",
                email=f"teacher{n:02d}@example.org",
                password=unusable,
                first_name="Teacher",
                last_name=f"{n:02d}",
            )
            for n in range(1, 21)
        ),
        ignore_conflicts=True,
    )
    teachers = list(user_model.objects.filter(username__startswith="teacher").order_by("username"))
    learners = list(user_model.objects.filter(username__startswith="learner").order_by("username"))
    now = timezone.now()

    def created_at():
        return now - timedelta(days=rng.randint(1, 720), seconds=rng.randint(0, 86399))

    organisations = Group.objects.bulk_create(
        _new_group(name=name, parent=None, creator=rng.choice(teachers), created_at=created_at(), rng=rng, city=city)
        for name, city in zip(ORGANISATIONS, CITIES, strict=True)
    )
    departments = Group.objects.bulk_create(
        _new_group(name=f"{org.name} {dept}", parent=org, creator=org.created_by, created_at=created_at(), rng=rng,
                   city=(org.city, org.country, org.latitude, org.longitude))
        for org in organisations
        for dept in DEPARTMENTS
    )  # fmt: skip
    classes = Group.objects.bulk_create(
        _new_group(name=f"{dept.name} class {n}", parent=dept, creator=rng.choice(teachers), created_at=created_at(),
                   rng=rng, city=(dept.city, dept.country, dept.latitude, dept.longitude))
        for dept in departments
        for n in range(1, CLASSES_PER_DEPARTMENT + 1)
    )  # fmt: skip
    for vhost in {group.vhost for group in organisations}:
        tree_numbers_rebuild(vhost=vhost)  # bulk inserts bypass Group.save, which keeps the numbers otherwise
    progress.set_postfix_str(f"groups: {len(organisations) + len(departments) + len(classes)} groups")

    memberships, activities = [], []
    for group in [*organisations, *departments, *classes]:
        memberships.append(Membership(group=group, user=group.created_by, role=MemberRole.ADMIN, visited=True,
                                      created_by=group.created_by, created_at=group.created_at))  # fmt: skip
    for group in classes:
        for learner in rng.sample(learners, k=min(len(learners), rng.randint(12, 30))):
            memberships.append(Membership(group=group, user=learner, created_by=group.created_by,
                                          created_at=group.created_at, visited=rng.random() < 0.7))  # fmt: skip
        for course in rng.sample(DEMO_COURSE_IDS, k=rng.randint(1, 3)):
            activities.append(Activity(group=group, activity_id=course, activity_type="Course",
                                       created_by=group.created_by))  # fmt: skip
    Membership.objects.bulk_create(memberships, batch_size=2000)
    Activity.objects.bulk_create(activities, batch_size=2000)
    return len(teachers) + len(organisations) + len(departments) + len(classes) + len(memberships) + len(activities)
