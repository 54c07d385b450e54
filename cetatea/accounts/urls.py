from django.urls import path

from cetatea.accounts import views

app_name = "accounts"

# Included at the site's root: the 2FA steps live under /login/ (reachable before the
# second factor, see middleware.ALLOWED_PREFIXES), the rest under /staff/account/.
urlpatterns = [
    path("login/2fa/", views.verify, name="verify"),
    path("login/2fa/setup/", views.setup, name="setup"),
    path("staff/account/security/", views.security, name="security"),
    path("staff/account/security/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("staff/account/users/", views.account_list, name="account_list"),
    path(
        "staff/account/users/<int:user_id>/reset-2fa/",
        views.account_reset_2fa,
        name="reset_2fa",
    ),
    path("staff/account/users/<int:user_id>/unlock/", views.account_unlock, name="unlock"),
]
