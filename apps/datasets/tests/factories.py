import factory

from apps.datasets.models import Consumer, Session


class ConsumerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consumer

    name = factory.Sequence(lambda n: f"consumer{n}")
    consumer_key = factory.Sequence(lambda n: f"key{n:04d}")
    consumer_secret = factory.Faker("sha256")


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Session

    session_id = factory.Faker("uuid4")
    user_id = factory.Sequence(lambda n: f"user-{n}")
    activity_id = "activity-1"
    score = 5.0
    max_score = 10.0
    attempted_max_score = 10.0
    unscored_max_score = 0.0
    status = "Completed"
    dt_completed = factory.Faker(
        "date_time_between", start_date="-30d", end_date="-1d", tzinfo=__import__("datetime").UTC
    )
