from importlib import import_module

import factory

from apps.common.testing.factories import UserFactory
from apps.groups.models import Activity, Comment, Form, Group, Media, Membership


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    name = factory.Sequence(lambda n: f"Group {n}")
    slug = factory.Sequence(lambda n: f"group-{n}")
    created_by = factory.SubFactory(UserFactory)
    updated_by = factory.SelfAttribute("created_by")
    owner = factory.SelfAttribute("created_by")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    group = factory.SubFactory(GroupFactory)
    user = factory.SubFactory(UserFactory)


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    group = factory.SubFactory(GroupFactory)
    activity_id = factory.Sequence(lambda n: f"do_{n}")
    activity_type = "Course"


class MediaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Media

    group = factory.SubFactory(GroupFactory)
    title = factory.Sequence(lambda n: f"Photo {n}")


class CommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Comment

    group = factory.SubFactory(GroupFactory)
    body = factory.Sequence(lambda n: f"Comment {n}")


def default_forms_ensure() -> None:
    """The forms the groups migrations create, again: a transactional test (or a flush) elsewhere may have removed
    them, and Sunbird's group pages read them."""
    defaults = import_module("apps.groups.migrations.0002_sunbird_form")
    Form.objects.get_or_create(
        type="group", subtype="supported_activities", action="list", defaults={"data": defaults.SUPPORTED_ACTIVITIES}
    )
