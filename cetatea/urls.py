from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from cetatea.accounts import views as accounts_views
from cetatea.intranet.urls import section_urlpatterns as intranet_sections
from cetatea.open311 import views as open311_views
from cetatea.ops.views import healthz, metrics_view
from cetatea.registry.urls import public_urlpatterns
from cetatea.revenue.urls import portal_urlpatterns as revenue_portal_urlpatterns
from cetatea.telephony import views as telephony_views
from cetatea.telephony.robot.webhook import robot_webhook

# A database outage or a full disk raised outside a view: 503/507, not 500 (core/faults.py).
handler500 = "cetatea.core.faults.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),  # Prometheus (docs/operations.md)
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("login/", accounts_views.LoginView.as_view(), name="login"),
    path("", include("cetatea.accounts.urls")),  # /login/2fa/…, /staff/account/…
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # [\s\S], not ".": a path with a newline in it is still the interface's (never a page).
    re_path(r"^open311/v2(?P<path>/[\s\S]*)?\Z", open311_views.endpoint, name="open311"),
    # The PBX's CTI events, at the path of Zammad's generic CTI API (docs/telephony.md).
    re_path(r"^api/v1/cti/(?P<token>[^/]+)/?\Z", telephony_views.cti_endpoint, name="cti"),
    # The phone robot over a TwiML-style callback (cetatea/telephony/robot/webhook.py).
    re_path(r"^api/v1/robot/(?P<token>[^/]+)/?\Z", robot_webhook, name="robot_webhook"),
    path("staff/people/", include("cetatea.people.urls")),
    path("staff/privacy/", include("cetatea.privacy.urls")),
    path("staff/registry/", include("cetatea.registry.urls")),
    path("registratura/", include((public_urlpatterns, "registry_public"))),
    path("transparenta/", include("cetatea.insights.public_urls")),
    path("staff/notifications/", include("cetatea.notify.urls")),
    path("staff/calls/", include("cetatea.telephony.urls")),
    path("staff/inbox/", include("cetatea.inbox.urls")),
    path("staff/revenue/", include("cetatea.revenue.urls")),
    path("staff/intranet/", include("cetatea.intranet.urls")),
    path("staff/intranet/", include(intranet_sections)),
    path("staff/insights/export/", include("cetatea.insights.export_urls")),
    path("staff/insights/", include("cetatea.insights.urls")),
    path("staff/", include("cetatea.intake.urls")),  # staff/intake/, staff/field/
    path("staff/", include("cetatea.console.urls")),
    path("staff/", RedirectView.as_view(pattern_name="people:search", permanent=False)),
    path("account/taxes/", include((revenue_portal_urlpatterns, "revenue_portal"))),
    path("", include("cetatea.portal.urls")),
]

if settings.DEBUG:  # production serves media from the web server or object storage
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
