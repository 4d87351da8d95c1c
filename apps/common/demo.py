"""Demo data of the platform itself: learner accounts that the other apps' demo data enrols in groups and courses."""

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

DEMO_LEARNERS = 200
# The courses of the demo: groups take them as activities and the demo tracking log is about them.
DEMO_COURSE_IDS = [
    "course-v1:TallyX+MATH101+2026_T1",
    "course-v1:TallyX+PHYS201+2026_T1",
    "course-v1:TallyX+CHEM110+2026_T1",
    "TallyX/HIST100/2025_Fall",
    "course-v1:TallyX+DATA300+2026_T2",
]


def demo_users_seed(*, progress) -> int:
    """Create learner001..learner200 when absent. Idempotent: returns how many were new."""
    user_model = get_user_model()
    usernames = [f"learner{number:03d}" for number in range(1, DEMO_LEARNERS + 1)]
    existing = set(user_model.objects.filter(username__in=usernames).values_list("username", flat=True))
    unusable_password = make_password(None)
    new_users = [
        user_model(username=username, email=f"{username}@example.org", password=unusable_password)
        for username in usernames
        if username not in existing
    ]
    user_model.objects.bulk_create(new_users, batch_size=500)
    return len(new_users)
