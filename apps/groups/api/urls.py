app_name = "groups-api"

urlpatterns: list = []
