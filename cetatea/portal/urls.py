from django.urls import path

from cetatea.portal import feeds, pin_views, views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("map/features.json", views.features, name="features"),
    path("streets/", views.streets, name="streets"),
    path("report/", views.report, name="report"),
    path("report/nearby/", views.nearby, name="nearby"),
    path("report/photo-location/", views.photo_location, name="photo_location"),
    path("report/<str:reference>/thanks/", views.thanks, name="thanks"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("cases/", views.case_list, name="list"),
    path("cases/<str:reference>/", views.case_detail, name="case"),
    path("cases/<str:reference>/me-too/", views.support, name="support"),
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/confirm/<str:token>/", views.subscription_confirm, name="subscription_confirm"),
    path("alerts/stop/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("feedback/<str:token>/", views.feedback, name="feedback"),
    path("account/", views.account, name="account"),
    path("account/login/<str:token>/", views.login_verify, name="login_verify"),
    path("account/logout/", views.account_logout, name="logout"),
    path("account/phone-pin/", pin_views.phone_pin, name="phone_pin"),
    path("staff/moderation/<str:reference>/", views.moderate, name="moderate"),
    path("feeds/cases/<str:reference>/", feeds.CaseUpdatesFeed(), name="feed_case"),
    path("feeds/areas/<slug:code>/", feeds.AreaFeed(), name="feed_area"),
    path("feeds/around/", feeds.AroundFeed(), name="feed_around"),
]
