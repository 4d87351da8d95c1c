"""Open edX inputs kept in the database (learner profiles), the learner state carried between nights, and the
rollup tables behind the Analytics Data API. Tracking events themselves live in the Parquet event store
(`apps.course_analytics.eventstore`).

Rollup tables follow the reference pipeline's result store: one row per (course, day[, breakdown]) or per
(course, week, activity type), `created` being when the row was computed.
"""

from django.db import models

UNKNOWN_COUNTRY = "UNKNOWN"


class LearnerEnrollmentState(models.Model):
    """A learner's enrollment in a course at the end of `since`, a UTC day with enrollment events of theirs; it
    holds until their next row. The rollups carry it from day to day, so that a night reads only its own events.
    """

    course_id = models.CharField(max_length=255)
    lms_user_id = models.BigIntegerField()
    since = models.DateField()
    enrolled = models.BooleanField()
    mode = models.CharField(max_length=64, blank=True, default="")
    # The learner's state before this row (enrolled null on their first), so that a night counts its changes from
    # its own rows, without looking up each learner's earlier ones.
    previous_enrolled = models.BooleanField(null=True)
    previous_mode = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course_id", "lms_user_id", "since"], name="learner_state_unique")
        ]
        # By learner: a night looks up the earlier states of its day's learners, a few thousand of every learner
        # (the `any_of` lookup). The unique index, led by the course, serves the reads of some courses' learners
        # (the activity aggregator's refresh).
        indexes = [
            models.Index(fields=["since"], name="learner_state_since"),
            models.Index(fields=["lms_user_id"], name="learner_state_learner"),
        ]

    def __str__(self) -> str:
        return f"{self.lms_user_id} in {self.course_id} from {self.since}"


class LearnerStateDay(models.Model):
    """A UTC day whose learner states are computed from every event stored so far. Ingesting an enrollment event
    of a day removes that day and the later ones, so that the next rollup recomputes them."""

    day = models.DateField(unique=True)
    computed = models.DateTimeField()

    def __str__(self) -> str:
        return f"learner states of {self.day}"


class LearnerProfile(models.Model):
    """A learner's profile as Open edX exports it (auth_userprofile), keyed by the LMS user id. Codes stay raw."""

    lms_user_id = models.BigIntegerField(unique=True)
    year_of_birth = models.PositiveSmallIntegerField(null=True, blank=True)
    level_of_education = models.CharField(max_length=10, blank=True, default="")
    gender = models.CharField(max_length=10, blank=True, default="")
    country = models.CharField(max_length=3, blank=True, default="")
    # When the profile last changed (every save and bulk write sets it): the rollups carry a day's demographic
    # counts into the next only while no profile has changed since.
    updated = models.DateTimeField(auto_now=True, db_index=True)

    def __str__(self) -> str:
        return f"profile of LMS user {self.lms_user_id}"


class DailyRollup(models.Model):
    course_id = models.CharField(max_length=255)
    date = models.DateField()
    count = models.IntegerField(help_text="Learners enrolled at the end of the UTC day.")
    cumulative_count = models.IntegerField(help_text="Learners who ever enrolled, up to the end of the day.")
    created = models.DateTimeField()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.course_id} {self.date}"


# Each table is indexed by date too: a night moves the day before's rows on (the API reads by course and dates).
class EnrollmentDaily(DailyRollup):
    class Meta:
        verbose_name = "daily enrollment"
        verbose_name_plural = "daily enrollment"
        constraints = [models.UniqueConstraint(fields=["course_id", "date"], name="enrollment_daily_unique")]
        indexes = [models.Index(fields=["date"], name="enrollment_daily_date")]


class EnrollmentModeDaily(DailyRollup):
    mode = models.CharField(max_length=64)

    class Meta:
        verbose_name = "daily enrollment by mode"
        verbose_name_plural = "daily enrollment by mode"
        constraints = [
            models.UniqueConstraint(fields=["course_id", "date", "mode"], name="enrollment_mode_daily_unique")
        ]
        indexes = [models.Index(fields=["date"], name="enrollment_mode_date")]


class EnrollmentGenderDaily(DailyRollup):
    gender = models.CharField(  # noqa: DJ001 (null is "no profile value", apart from any code)
        max_length=10, null=True, blank=True, help_text="Raw profile code; null if none."
    )

    class Meta:
        verbose_name = "daily enrollment by gender"
        verbose_name_plural = "daily enrollment by gender"
        constraints = [
            models.UniqueConstraint(fields=["course_id", "date", "gender"], name="enrollment_gender_daily_unique")
        ]
        indexes = [models.Index(fields=["date"], name="enrollment_gender_date")]


class EnrollmentBirthYearDaily(DailyRollup):
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = "daily enrollment by birth year"
        verbose_name_plural = "daily enrollment by birth year"
        constraints = [
            models.UniqueConstraint(fields=["course_id", "date", "birth_year"], name="enrollment_birth_daily_unique")
        ]
        indexes = [models.Index(fields=["date"], name="enrollment_birth_date")]


class EnrollmentEducationDaily(DailyRollup):
    education_level = models.CharField(  # noqa: DJ001 (null is the API's unknown level)
        max_length=32, null=True, blank=True, help_text="API name; null if unknown."
    )

    class Meta:
        verbose_name = "daily enrollment by education"
        verbose_name_plural = "daily enrollment by education"
        constraints = [
            models.UniqueConstraint(
                fields=["course_id", "date", "education_level"], name="enrollment_education_daily_unique"
            )
        ]
        indexes = [models.Index(fields=["date"], name="enrollment_education_date")]


class EnrollmentLocationDaily(DailyRollup):
    country_code = models.CharField(max_length=8, help_text="ISO 3166 alpha-2, or UNKNOWN.")

    class Meta:
        verbose_name = "daily enrollment by country"
        verbose_name_plural = "daily enrollment by country"
        constraints = [
            models.UniqueConstraint(fields=["course_id", "date", "country_code"], name="enrollment_country_unique")
        ]
        indexes = [models.Index(fields=["date"], name="enrollment_country_date")]


class ActivityWeekly(models.Model):
    """Distinct learners per course, ISO week (Monday to Monday, UTC) and activity type."""

    course_id = models.CharField(max_length=255)
    interval_start = models.DateTimeField()
    interval_end = models.DateTimeField()
    activity_type = models.CharField(max_length=32)
    count = models.IntegerField()
    created = models.DateTimeField()

    class Meta:
        verbose_name = verbose_name_plural = "weekly activity"
        constraints = [
            models.UniqueConstraint(
                fields=["course_id", "interval_start", "activity_type"], name="activity_weekly_unique"
            )
        ]
        indexes = [models.Index(fields=["course_id", "interval_end"], name="activity_course_end")]

    def __str__(self) -> str:
        return f"{self.course_id} {self.interval_start:%Y-%m-%d} {self.activity_type}"


class VideoSummary(models.Model):
    """Viewers of a course video at its start and near its end (credits excluded), over all events so far."""

    pipeline_video_id = models.CharField(max_length=600, unique=True)
    course_id = models.CharField(max_length=255)
    encoded_module_id = models.CharField(max_length=255)
    duration = models.IntegerField()
    segment_length = models.IntegerField()
    users_at_start = models.IntegerField()
    users_at_end = models.IntegerField()
    # What `duration` comes from (the longest duration a player reported, else the furthest position viewed), so far:
    # a night moves them on by its own viewings.
    reported_duration = models.FloatField(null=True)
    furthest = models.FloatField(null=True)
    created = models.DateTimeField()

    class Meta:
        verbose_name = "video summary"
        verbose_name_plural = "video summaries"
        indexes = [models.Index(fields=["course_id"], name="video_course")]

    def __str__(self) -> str:
        return self.pipeline_video_id


class DayFile(models.Model):
    """The file in force that holds data a rollup derived from one day's events, in a folder of the event store
    beside the event partitions (see `eventstore.day_file_write`). The data are columnar files, which the rollups
    scan in polars; this row names the day's file in force, so that a rollup replaces it in its own transaction:
    readers see the previous file until it commits, and a rollup that fails leaves it in force."""

    day = models.DateField(primary_key=True)
    name = models.CharField(max_length=255)  # relative to the kind's folder of the event store
    created = models.DateTimeField()

    class Meta:
        abstract = True


class VideoViewingFile(DayFile):
    """One day's video viewings. A viewing is one stretch of a video a learner watched on a day: from a play to
    their next event on that video that day, with the day's longest reported duration and furthest position beside
    it, so that the video summaries are one scan over viewings rather than a pass over every video event."""

    viewings = models.PositiveIntegerField()

    class Meta:
        verbose_name = "video viewings of a day"
        verbose_name_plural = "video viewings by day"

    def __str__(self) -> str:
        return f"video viewings of {self.day}"


class VideoViewersFile(models.Model):
    """The distinct viewers of each video's first and end segments first seen in the viewings of the days [first,
    last] (see `eventstore.VIEWERS_FOLDER`): the summaries' viewer counts are the rows of every file in force.

    `viewings` is the digest of the names of the viewing files of those days it was computed from: a night adds a
    file for its own days only while every earlier file is current and no video's end segment moved (with
    VIEWERS_FILES_MAX files in force, it writes theirs and its own as one); otherwise every file is replaced by one
    computed from every viewing."""

    first = models.DateField(primary_key=True)
    last = models.DateField()
    name = models.CharField(max_length=255)  # relative to the folder, as `eventstore.day_file_write` names it
    viewers = models.PositiveIntegerField()
    viewings = models.CharField(max_length=64)
    created = models.DateTimeField()

    class Meta:
        verbose_name = "video viewers of days"
        verbose_name_plural = "video viewers by days"

    def __str__(self) -> str:
        return f"video viewers first seen {self.first}..{self.last}"


class ActivityLearnersFile(DayFile):
    """The learners active in each course on one day, with the kinds of activity they had: a week's activity is the
    distinct learners of its seven days' files, so that the night ending a week reads small files rather than the
    week's events.
    `events` is the digest of the day's event files it was computed from (see `eventstore.events_digest`): a day
    that received events since is computed afresh from its events."""

    learners = models.PositiveIntegerField()
    events = models.CharField(max_length=64)

    class Meta:
        verbose_name = "active learners of a day"
        verbose_name_plural = "active learners by day"

    def __str__(self) -> str:
        return f"active learners of {self.day}"
