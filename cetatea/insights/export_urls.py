app_name = "insights_export"
urlpatterns: list = []
