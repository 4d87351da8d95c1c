app_name = "course_analytics-api"

urlpatterns: list = []
