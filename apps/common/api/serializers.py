from rest_framework import serializers


class WhoAmISerializer(serializers.Serializer):
    user_id = serializers.UUIDField(source="public_id", help_text="The user's public UUID.")
    username = serializers.CharField()
    is_sysadmin = serializers.BooleanField()
    is_staff = serializers.BooleanField()
    api_key_prefix = serializers.CharField(allow_null=True, help_text="Visible prefix of the key used, if any.")
