app_name = "stats-api"

urlpatterns: list = []
