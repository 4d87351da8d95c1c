"""The one group table behind every dialect, with its memberships and activities.

Field names follow Tally; `docs/api-dialects.md` maps each dialect's names and values onto them.
"""

import uuid
from typing import Self

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from tree_queries.fields import TreeNodeForeignKey
from tree_queries.models import OrderableTreeNode
from tree_queries.query import TreeQuerySet


def default_vhost() -> int:
    return settings.TALLY_DEFAULT_VHOST


class GroupStatus(models.TextChoices):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    INACTIVE = "inactive"


class ModerationStatus(models.TextChoices):
    ACCEPTED = "accepted"
    DENIED = "denied"
    UNMODERATED = "unmoderated"
    DELETED = "deleted"


class GroupType(models.IntegerChoices):
    GROUP = 1
    EVENT = 2
    ASSIGNMENT = 3


class GroupQuerySet(TreeQuerySet):
    def existing(self) -> Self:
        """Groups that still exist: a deleted (inactive) group is gone for every reader."""
        return self.exclude(status=GroupStatus.INACTIVE)

    def visible_to(self, user) -> Self:
        """Groups whose members, memberships and activities `user` may see: every group for staff, else the
        groups the user is an active member of (in any role, admins included)."""
        if not user.is_authenticated:
            return self.none()
        if user.is_platform_staff:
            return self
        own = Membership.objects.active().filter(group=OuterRef("pk"), user=user)
        return self.filter(Exists(own))


class Group(OrderableTreeNode):
    """A group of learners: Sunbird group, CKAN/EDX group and Newspark group in one row.

    `id` is the integer id (Newspark), `public_id` the UUID (Sunbird groupId, CKAN id). A group is never deleted:
    deletion sets `status` to inactive, which every dialect treats as gone and CKAN counts as state "deleted".
    """

    parent = TreeNodeForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name="parent"
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=255, help_text="Display name (Sunbird and Newspark name, CKAN title).")
    slug = models.SlugField(max_length=100, unique=True, help_text="URL name (CKAN name).")
    description = models.TextField(blank=True, default="")
    status = models.CharField(max_length=16, choices=GroupStatus.choices, default=GroupStatus.ACTIVE)
    membership_type = models.CharField(max_length=32, default="invite_only")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    # CKAN / NETL EDX columns.
    revision_id = models.UUIDField(default=uuid.uuid4, help_text="Changes on every update.")
    type = models.CharField(max_length=100, default="group")
    approval_status = models.CharField(max_length=32, default="approved")
    image_url = models.URLField(max_length=500, blank=True, default="")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_groups"
    )
    landing_page = models.CharField(max_length=100, default="dashboard")
    group_reviewed = models.BooleanField(default=False)
    open_access = models.BooleanField(default=False)
    netl_only = models.BooleanField(default=False)
    project_number = models.CharField(max_length=100, blank=True, default="")

    # Newspark columns.
    vhost = models.PositiveIntegerField(default=default_vhost)
    moderation_status = models.CharField(
        max_length=16, choices=ModerationStatus.choices, default=ModerationStatus.ACCEPTED
    )
    group_type = models.PositiveSmallIntegerField(choices=GroupType.choices, default=GroupType.GROUP)
    note = models.TextField(blank=True, default="")
    logo = models.PositiveBigIntegerField(null=True, blank=True, help_text="Media id of the logo.")
    url = models.URLField(max_length=500, blank=True, default="")
    email = models.EmailField(blank=True, default="")
    host = models.CharField(max_length=255, blank=True, default="")
    address = models.CharField(max_length=255, blank=True, default="")
    city = models.CharField(max_length=100, blank=True, default="")
    province = models.CharField(max_length=100, blank=True, default="", help_text="State or province (Newspark state).")
    country = models.CharField(max_length=2, blank=True, default="", help_text="ISO 3166 alpha-2.")
    postal_code = models.CharField(max_length=20, blank=True, default="")
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    custom1 = models.CharField(max_length=255, blank=True, default="")
    other = models.JSONField(default=dict, blank=True, help_text="Free key/value map (Newspark other).")
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)

    objects = GroupQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["created_at"], name="group_created_at"),
            models.Index(fields=["updated_at"], name="group_updated_at"),
            models.Index(fields=["status", "created_at"], name="group_status_created"),
            models.Index(fields=["created_by", "status"], name="group_creator_status"),
            models.Index(fields=["vhost", "moderation_status", "group_type"], name="group_vhost_moderation_type"),
            models.Index(fields=["type"], name="group_type_idx"),
            models.Index(fields=["name"], name="group_name"),
            models.Index(fields=["custom1"], name="group_custom1"),
            models.Index(fields=["latitude", "longitude"], name="group_geo"),
            models.Index(fields=["starts_at"], name="group_starts_at"),
            models.Index(fields=["ends_at"], name="group_ends_at"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(latitude__gte=-90, latitude__lte=90), name="group_latitude_range"),
            models.CheckConstraint(condition=Q(longitude__gte=-180, longitude__lte=180), name="group_longitude_range"),
        ]

    def __str__(self) -> str:
        return self.name


class MemberRole(models.TextChoices):
    ADMIN = "admin"
    MEMBER = "member"


class MemberStatus(models.TextChoices):
    ACTIVE = "active"
    INACTIVE = "inactive"


class GroupPartQuerySet(models.QuerySet):
    """Rows that belong to a group (memberships, activities)."""

    def of_existing_groups(self) -> Self:
        """Those of groups that still exist: the parts of a deleted group are gone with it."""
        return self.exclude(group__status=GroupStatus.INACTIVE)

    def of_groups_visible_to(self, user) -> Self:
        """Those of the groups `user` may see (Group.objects.visible_to)."""
        return self.filter(group__in=Group.objects.visible_to(user))


class MembershipQuerySet(GroupPartQuerySet):
    def active(self) -> Self:
        """Members who have not been removed (their group may be deleted: add of_existing_groups() for readers)."""
        return self.filter(status=MemberStatus.ACTIVE)


class Membership(models.Model):
    """A user's place in a group. Removal is soft: status inactive with removed_by/removed_at; re-adding revives it."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=MemberRole.choices, default=MemberRole.MEMBER)
    status = models.CharField(max_length=16, choices=MemberStatus.choices, default=MemberStatus.ACTIVE)
    visited = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    removed_at = models.DateTimeField(null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="membership_group_user_unique")]
        indexes = [
            models.Index(fields=["group", "status"], name="membership_group_status"),
            models.Index(fields=["user", "status"], name="membership_user_status"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.group} ({self.role}, {self.status})"


class Activity(models.Model):
    """Something the group does together, such as a course: (activity_id, activity_type), unique per group."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="activities")
    activity_id = models.CharField(max_length=255)
    activity_type = models.CharField(max_length=100)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = GroupPartQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "activities"
        constraints = [models.UniqueConstraint(fields=["group", "activity_id"], name="activity_group_id_unique")]
        indexes = [models.Index(fields=["activity_id", "activity_type"], name="activity_id_type")]

    def __str__(self) -> str:
        return f"{self.activity_type} {self.activity_id}"


class Form(models.Model):
    """A form of Sunbird's form service, read by the group pages of Sunbird's clients (which activity types a group
    may hold, for example). `*` in component, framework or root_org_id matches any; `data` is the form's content,
    edited by staff in the admin."""

    ANY = "*"

    type = models.CharField(max_length=64, help_text="e.g. group (matched case-insensitively).")
    subtype = models.CharField(max_length=64, help_text="e.g. supported_activities.")
    action = models.CharField(max_length=64, help_text="e.g. list.")
    component = models.CharField(max_length=64, default=ANY)
    framework = models.CharField(max_length=64, default=ANY)
    root_org_id = models.CharField(max_length=64, default=ANY, verbose_name="root org id")
    data = models.JSONField(help_text="What the form service returns as `result.form.data`.")
    created_on = models.DateTimeField(default=timezone.now)
    last_modified_on = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["type", "subtype", "action", "component", "framework", "root_org_id"], name="form_unique_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.type}/{self.subtype}/{self.action} ({self.root_org_id}, {self.framework}, {self.component})"
