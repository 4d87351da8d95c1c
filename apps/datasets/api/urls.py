app_name = "datasets-api"

urlpatterns: list = []
