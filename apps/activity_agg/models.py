"""Per-learner progress in course contents, and the per-user, per-activity aggregates the Sunbird group activity
aggregator serves (`docs/api-dialects.md`: activity aggregator)."""

from django.conf import settings
from django.db import models
from django.utils import timezone

COURSE_ACTIVITY_TYPE = "Course"


class Metric(models.TextChoices):
    COMPLETED_COUNT = "completedCount"
    PROGRESS = "progress"
    SCORE = "score"


class ContentProgress(models.Model):
    """What one learner did with one leaf content (block) of a course, distilled from tracking events.

    `completed_at` is the first completion (a correct server `problem_check`, a video watched into its end
    segment, an `edx.completion.*` event); `best_score`/`max_score` the best graded `problem_check` so far, reached
    first at `scored_at`. Keyed by the LMS user id, as the events are, so that progress is kept for learners not yet
    linked to a Tally user. Merging the same events again changes nothing.
    """

    course_id = models.CharField(max_length=255)
    lms_user_id = models.BigIntegerField()
    content_id = models.CharField(max_length=255, help_text="Usage key of the block.")
    completed_at = models.DateTimeField(null=True, blank=True)
    best_score = models.FloatField(null=True, blank=True)
    max_score = models.FloatField(null=True, blank=True)
    scored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "content progress"
        constraints = [
            models.UniqueConstraint(fields=["course_id", "lms_user_id", "content_id"], name="content_progress_unique")
        ]

    def __str__(self) -> str:
        return f"{self.content_id} by LMS user {self.lms_user_id}"


class ActivityAggregate(models.Model):
    """One metric of one user in one activity (Sunbird `user_activity_agg`): only enrolled learners have rows.

    `last_updated` is when the value last changed: the time of the event that changed it (null while nothing has).
    """

    activity_type = models.CharField(max_length=100)
    activity_id = models.CharField(max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    metric = models.CharField(max_length=32, choices=Metric.choices)
    value = models.FloatField()
    last_updated = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["activity_id", "activity_type", "user", "metric"], name="activity_aggregate_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.activity_type} {self.activity_id}: {self.metric} of {self.user_id} = {self.value}"


class CourseContentCount(models.Model):
    """How many leaf contents a course has, set by staff (the reference leaves progress to its clients): with it,
    the aggregates carry `progress` in percent."""

    course_id = models.CharField(max_length=255, unique=True)
    leaf_contents = models.PositiveIntegerField()
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.course_id}: {self.leaf_contents} leaf contents"


class RefreshRequest(models.Model):
    """A day with newly stored tracking events that a refresh has yet to read: made (or made again) by an ingest
    batch after its events are stored, which queues a refresh only when it made one; `taken` when a refresh starts
    on it, before it reads any event, and deleted when that refresh commits. The batches of a day that find it
    waiting queue nothing more. One waiting longer than a queued task lives, or taken by a refresh that never
    committed, is read by the nightly refresh."""

    day = models.DateField(primary_key=True)
    requested = models.DateTimeField()
    taken = models.DateTimeField(null=True, blank=True, help_text="When a refresh started on it.")

    def __str__(self) -> str:
        return f"refresh of {self.day} requested at {self.requested}"
