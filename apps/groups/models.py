"""The one group table behind every dialect, with its memberships and activities.

Field names follow Tally; `docs/api-dialects.md` maps each dialect's names and values onto them.
"""

import uuid
from typing import Self

from django.conf import settings
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from tree_queries.fields import TreeNodeForeignKey
from tree_queries.models import OrderableTreeNode
from tree_queries.query import TreeQuerySet

from apps.common.safe_json import StoredJSONValidator

# Free-form JSON a group keeps: at most this much JSON text (and JSON_MAX_DEPTH levels), so that its pages render.
OTHER_MAX_CHARS = 10_000


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


# What makes a group exist, for querysets and for conditions inside expressions: a deleted (inactive) group is gone.
EXISTING_GROUP = ~Q(status=GroupStatus.INACTIVE)


class GroupQuerySet(TreeQuerySet):
    def existing(self) -> Self:
        """Groups that still exist: a deleted (inactive) group is gone for every reader."""
        return self.filter(EXISTING_GROUP)

    def visible_to(self, user) -> Self:
        """Groups whose members, memberships and activities `user` may see: every group for staff, else the
        groups the user is an active member of (in any role, admins included)."""
        if not user.is_authenticated:
            return self.none()
        if user.is_platform_staff:
            return self
        own = Membership.objects.active().filter(group=OuterRef("pk"), user=user)
        return self.filter(Exists(own))


def members_visible_to(user, *, active_member_ids: frozenset[int]) -> bool:
    """visible_to for one group whose active members' user ids are known already (a cached read)."""
    return user.is_authenticated and (user.is_platform_staff or user.pk in active_member_ids)


# Columns of Group kept by apps.groups.tree and the counter triggers, never by a save.
DERIVED_FIELDS = frozenset(
    ["tree_left", "tree_right", "tree_ancestor_types", "counted_members", "counted_media", "counted_media_accepted",
     "counted_media_not_denied", "counted_comments", "counted_comments_accepted", "counted_comments_not_denied"]
)  # fmt: skip


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
    other = models.JSONField(
        default=dict,
        blank=True,
        validators=[StoredJSONValidator(max_chars=OTHER_MAX_CHARS)],
        help_text="Free key/value map (Newspark other).",
    )
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)

    objects = GroupQuerySet.as_manager()
    # Nested-set numbers of the group in its vhost's tree (Newspark treeleft/treeright), kept by apps.groups.tree.
    tree_left = models.PositiveIntegerField(default=0, editable=False)
    tree_right = models.PositiveIntegerField(default=0, editable=False)
    tree_ancestor_types = models.PositiveSmallIntegerField(
        default=0, editable=False, help_text="Bit 1 << group_type set for the type of each ancestor in the vhost."
    )
    # Counters kept by database triggers (migration 0005) on every write to memberships, media and comments, so
    # that a page sorted by member or media count reads no per-group rows.
    counted_members = models.PositiveIntegerField(default=0, editable=False, help_text="Active memberships.")
    counted_media = models.PositiveIntegerField(default=0, editable=False)
    counted_media_accepted = models.PositiveIntegerField(default=0, editable=False)
    counted_media_not_denied = models.PositiveIntegerField(default=0, editable=False)
    counted_comments = models.PositiveIntegerField(default=0, editable=False)
    counted_comments_accepted = models.PositiveIntegerField(default=0, editable=False)
    counted_comments_not_denied = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["id"]
        permissions = [
            ("getGroups", "Newspark getGroups: filter on groups created by another user"),
            ("getGroupsNoLimit", "Newspark getGroups: read every group at once (noLimit)"),
        ]
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
            models.Index(fields=["vhost", "-created_at", "id"], name="group_vhost_created"),
            models.Index(fields=["vhost", "-counted_members", "id"], name="group_vhost_members"),
            models.Index(fields=["vhost", "tree_left"], name="group_vhost_tree_left"),
            models.Index(fields=["vhost", "tree_right"], name="group_vhost_tree_right"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(latitude__gte=-90, latitude__lte=90), name="group_latitude_range"),
            models.CheckConstraint(condition=Q(longitude__gte=-180, longitude__lte=180), name="group_longitude_range"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_gone(self) -> bool:
        return self.status == GroupStatus.INACTIVE

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._tree_place = instance.tree_place()
        return instance

    def tree_place(self) -> tuple:
        """What decides the tree numbers of the group and its subtree: vhost, parent, place among siblings, type."""
        return tuple(self.__dict__.get(name) for name in ("vhost", "parent_id", "position", "group_type"))

    def save(self, *args, **kwargs):
        """Saves, then keeps the vhost's nested-set numbers true: an insert is appended in place, a move (another
        parent, vhost or position) or a change of type renumbers the vhosts it touched (apps.groups.tree)."""
        from apps.groups import tree

        adding = self._state.adding
        if not adding and kwargs.get("update_fields") is None:
            # The derived columns are written only by the tree and the triggers: a save must not put back the
            # stale values this instance was loaded with.
            loaded = set(self.__dict__)
            kwargs["update_fields"] = [
                f.name for f in self._meta.concrete_fields if not f.primary_key and f.attname in loaded
                and f.name not in DERIVED_FIELDS
            ]  # fmt: skip
        before = getattr(self, "_tree_place", None)
        with transaction.atomic():
            super().save(*args, **kwargs)
            if adding:
                tree.tree_numbers_append(group=self)
            elif before is not None and before != self.tree_place():
                for vhost in {before[0], self.vhost}:
                    tree.tree_numbers_rebuild(vhost=vhost)
        self._tree_place = self.tree_place()


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


class ItemModeration(models.TextChoices):
    ACCEPTED = "accepted"
    DENIED = "denied"
    UNMODERATED = "unmoderated"


class GroupItem(models.Model):
    """Something posted into a group and moderated there; the triggers of migration 0005 count it on the group."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE)
    moderation_status = models.CharField(
        max_length=16, choices=ItemModeration.choices, default=ItemModeration.UNMODERATED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = GroupPartQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["id"]


class Media(GroupItem):
    """A media item (photo, video, file) posted into a group. A group's logo names one by id."""

    title = models.CharField(max_length=255, blank=True, default="")
    url = models.URLField(max_length=500, blank=True, default="", help_text="Public URL (counts a hit).")
    thumbnail_url = models.URLField(max_length=500, blank=True, default="", help_text="Thumbnail (no hit).")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)

    class Meta(GroupItem.Meta):
        verbose_name_plural = "media"
        indexes = [models.Index(fields=["group", "moderation_status"], name="media_group_moderation")]

    def __str__(self) -> str:
        return self.title or f"media {self.pk}"


class Comment(GroupItem):
    """A comment posted on a group."""

    body = models.TextField()

    class Meta(GroupItem.Meta):
        indexes = [models.Index(fields=["group", "moderation_status"], name="comment_group_moderation")]

    def __str__(self) -> str:
        return self.body[:50]


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
