"""Demo data of the activity aggregator: the demo courses' progress and aggregates from the demo tracking log, with
each course's leaf-content count set (as staff would) so that the aggregates carry progress in percent."""

from django.db.models import Count

from apps.activity_agg.models import ActivityAggregate, ContentProgress
from apps.activity_agg.services import activity_aggregates_refresh, course_leaf_contents_set
from apps.course_analytics.selectors import tracking_events_days


def demo_activity_agg_seed(*, progress) -> int:
    """Merge every stored day of events into progress and rebuild the aggregates; a course's leaf contents are
    the distinct contents its learners reached. Idempotent: returns how many aggregate rows were new."""
    days = tracking_events_days()
    if not days:
        return 0
    before = ActivityAggregate.objects.count()
    progress.set_postfix_str("activity_agg: aggregates")
    activity_aggregates_refresh(first=days[0], last=days[-1])
    contents = ContentProgress.objects.values("course_id").annotate(leaf_contents=Count("content_id", distinct=True))
    for course in contents.order_by("course_id"):
        course_leaf_contents_set(course_id=course["course_id"], leaf_contents=course["leaf_contents"])
    return ActivityAggregate.objects.count() - before
