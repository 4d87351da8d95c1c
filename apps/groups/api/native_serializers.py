import json

from django.contrib.auth import get_user_model
from rest_framework import serializers

from apps.groups.models import Activity, Group, Membership

OTHER_MAX_CHARS = 10_000
USER_FIELD = {"slug_field": "public_id", "queryset": get_user_model().objects.filter(is_active=True)}


class GroupSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    number = serializers.IntegerField(source="pk", read_only=True, help_text="Integer id (Newspark id).")
    parent = serializers.SlugRelatedField(
        slug_field="public_id", queryset=Group.objects.existing(), required=False,
        allow_null=True,
    )  # fmt: skip
    owner = serializers.SlugRelatedField(**USER_FIELD, required=False, allow_null=True)
    created_by = serializers.SlugRelatedField(slug_field="public_id", read_only=True)
    updated_by = serializers.SlugRelatedField(slug_field="public_id", read_only=True)
    slug = serializers.SlugField(max_length=100, required=False)
    other = serializers.DictField(required=False, help_text="Free key/value map (Newspark other).")
    member_count = serializers.IntegerField(read_only=True)
    activity_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Group
        exclude = ("public_id", "position")
        read_only_fields = ("created_at", "updated_at", "revision_id")

    def validate_other(self, value: dict) -> dict:
        if len(json.dumps(value)) > OTHER_MAX_CHARS:
            raise serializers.ValidationError(f"At most {OTHER_MAX_CHARS} characters of JSON.")
        return value


class MembershipSerializer(serializers.ModelSerializer):
    group = serializers.SlugRelatedField(slug_field="public_id", queryset=Group.objects.existing())
    user = serializers.SlugRelatedField(**USER_FIELD)
    created_by = serializers.SlugRelatedField(slug_field="public_id", read_only=True)
    updated_by = serializers.SlugRelatedField(slug_field="public_id", read_only=True)
    removed_by = serializers.SlugRelatedField(slug_field="public_id", read_only=True)

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
    created_by = serializers.SlugRelatedField(slug_field="public_id", read_only=True)

    class Meta:
        model = Activity
        fields = ("id", "group", "activity_id", "activity_type", "created_by", "created_at")
        read_only_fields = ("created_at",)
        validators = []
