"""Revenue URLs: the staff's under /staff/revenue/, the citizen's under /account/taxes/
(both mounted in cetatea/urls.py)."""

from django.urls import path

from cetatea.revenue import views

app_name = "revenue"
urlpatterns = [
    path("people/<int:person_id>/balance/", views.person_balance, name="person_balance"),
    path("accounts/<int:account_id>/statement.pdf", views.statement, name="statement"),
]

portal_urlpatterns = [
    path("link/", views.portal_link, name="link"),
    path("<int:account_id>/statement.pdf", views.portal_statement, name="statement"),
]
