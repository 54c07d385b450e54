from django.urls import path, register_converter

from cetatea.insights import export_views


class _Year:
    regex = "[0-9]{4}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return f"{value:04d}"


class _Month:
    # Any one or two digits: the view says clearly that month 13 does not exist.
    regex = "[0-9]{1,2}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return f"{value:02d}"


register_converter(_Year, "insights_year")
register_converter(_Month, "insights_month")

app_name = "insights_export"
urlpatterns = [
    path("", export_views.table, name="table"),
    path(
        "department/<slug:code>/<insights_year:year>-<insights_month:month>.pdf",
        export_views.department_report,
        name="department_report",
    ),
]
