app_name = "activity_agg-api"

urlpatterns: list = []
