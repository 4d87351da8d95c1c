from django.contrib.auth import get_user_model
from rest_framework import serializers

from apps.common.safe_json import StoredJSONValidator
from apps.groups.models import DERIVED_FIELDS, OTHER_MAX_CHARS, Activity, Comment, Group, GroupStatus, Media, Membership

USER_FIELD = {"slug_field": "public_id", "queryset": get_user_model().objects.filter(is_active=True)}


def _actor() -> serializers.SlugRelatedField:
    """Who created, updated or removed a row: the user's id, null when none was recorded or the user is gone."""
    return serializers.SlugRelatedField(slug_field="public_id", read_only=True, allow_null=True)


class GroupSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    number = serializers.IntegerField(source="pk", read_only=True, help_text="Integer id (Newspark id).")
    parent = serializers.SlugRelatedField(
        slug_field="public_id", queryset=Group.objects.existing(), required=False,
        allow_null=True,
    )  # fmt: skip
    owner = serializers.SlugRelatedField(**USER_FIELD, required=False, allow_null=True)
    created_by = _actor()
    updated_by = _actor()
    slug = serializers.SlugField(max_length=100, required=False)
    other = serializers.DictField(
        required=False,
        validators=[StoredJSONValidator(max_chars=OTHER_MAX_CHARS)],
        help_text="Free key/value map (Newspark other).",
    )
    # Deletion is DELETE (or Sunbird's status inactive), which the service does and answers differently.
    status = serializers.ChoiceField(choices=[GroupStatus.ACTIVE, GroupStatus.SUSPENDED], required=False)
    member_count = serializers.IntegerField(read_only=True)
    activity_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Group
        # Derived columns that the triggers and the tree keep (Newspark reads them); member_count is annotated.
        exclude = ("public_id", "position", *sorted(DERIVED_FIELDS))
        read_only_fields = ("created_at", "updated_at", "revision_id")


class MembershipSerializer(serializers.ModelSerializer):
    group = serializers.SlugRelatedField(slug_field="public_id", queryset=Group.objects.existing())
    user = serializers.SlugRelatedField(**USER_FIELD)
    created_by = _actor()
    updated_by = _actor()
    removed_by = _actor()

    class Meta:
        model = Membership
        fields = ("id", "group", "user", "role", "status", "visited", "created_by", "created_at", "updated_by",
                  "updated_at", "removed_by", "removed_at")  # fmt: skip
        read_only_fields = ("status", "visited", "created_at", "updated_at", "removed_at")
        # Uniqueness is the service's to report (409 member_exists), not a generic 400.
        validators = []


class MembershipUpdateSerializer(MembershipSerializer):
    class Meta(MembershipSerializer.Meta):
        read_only_fields = ("group", "user", "status", "created_at", "updated_at", "removed_at")


class ActivitySerializer(serializers.ModelSerializer):
    group = serializers.SlugRelatedField(slug_field="public_id", queryset=Group.objects.existing())
    created_by = _actor()

    class Meta:
        model = Activity
        fields = ("id", "group", "activity_id", "activity_type", "created_by", "created_at")
        read_only_fields = ("created_at",)
        validators = []


class GroupItemSerializer(serializers.ModelSerializer):
    """A media item or comment of an existing group; the group is named by its public id."""

    group = serializers.SlugRelatedField(slug_field="public_id", queryset=Group.objects.existing())
    created_by = _actor()


class MediaSerializer(GroupItemSerializer):
    class Meta:
        model = Media
        fields = ("id", "group", "title", "url", "thumbnail_url", "width", "height", "moderation_status",
                  "created_by", "created_at")  # fmt: skip
        read_only_fields = ("created_at",)


class CommentSerializer(GroupItemSerializer):
    class Meta:
        model = Comment
        fields = ("id", "group", "body", "moderation_status", "created_by", "created_at")
        read_only_fields = ("created_at",)
