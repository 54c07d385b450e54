"""Staff roles as Django groups, with the permissions each one needs and no more.

``sync_roles`` runs after every migrate (see CoreConfig.ready), so the groups exist on
a fresh database and follow this table when it changes. Administrators may add
permissions to a group in the admin; ``sync_roles`` only adds, never removes them.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

OPERATOR = "operator"
REGISTRY_CLERK = "registry_clerk"
DEPARTMENT_STAFF = "department_staff"
FIELD_CREW = "field_crew"
MANAGER = "manager"
ADMINISTRATOR = "administrator"
REVENUE_OFFICER = "revenue_officer"
LEADERSHIP = "leadership"
DATA_PROTECTION = "data_protection"

ROLE_LABELS = {
    OPERATOR: _("Call-centre operator"),
    REGISTRY_CLERK: _("Registry clerk"),
    DEPARTMENT_STAFF: _("Department staff"),
    FIELD_CREW: _("Field crew"),
    MANAGER: _("Manager"),
    ADMINISTRATOR: _("Administrator"),
    REVENUE_OFFICER: _("Revenue officer"),
    LEADERSHIP: _("Mayor's office"),
    DATA_PROTECTION: _("Data protection officer"),
}

_PERSON_READ = ["people.view_person", "people.view_person_360", "people.view_contactpoint"]
_PERSON_WRITE = ["people.add_person", "people.change_person", "people.add_contactpoint"]
_CASE_READ = ["cases.view_case", "cases.view_caseevent", "cases.view_interaction"]
_CASE_WORK = ["cases.change_case", "cases.add_caseevent", "cases.add_attachment"]
_CASE_INTAKE = ["cases.add_case", "cases.add_interaction"]
_CALLS = ["telephony.view_call"]  # the call screen and the call log
# Issue/reset phone robot PINs and unlock the robot: the counters and the dispatch centre.
_ROBOT_PINS = ["telephony.manage_robot_pin"]
# The phone robot's call figures and its current locks (/staff/calls/robot/).
_ROBOT_KPIS = ["telephony.view_robotcall"]
_MAIL_LOG = ["inbox.view_inboundmessage"]  # the log of inbound e-mail (/staff/inbox/)
_REGISTRY_READ = ["registry.view_entry", "registry.view_entryfile"]
_REGISTRY_WORK = _REGISTRY_READ + [
    "registry.add_entry",
    "registry.change_entry",
    "registry.add_entryfile",
]
_REGISTRY_SETUP = [
    f"registry.{action}_{model}"
    for model in ("registrypoint", "documenttype", "nomenclatoritem")
    for action in ("add", "change", "view")
]

# Balances are seen by this role only (and the superuser): not by operators, managers,
# registry clerks or administrators (docs/revenue.md, "Who sees balances").
_REVENUE = [
    "revenue.view_taxpayeraccount",
    "revenue.view_balance",
    "revenue.import_revenue",
]
# GDPR (docs/privacy.md): the audit log, a data subject's export; erasure is the DPO's.
_PRIVACY_EXPORT = ["core.view_auditlog", "privacy.export_person_data"]

# Every staff role uses the intranet (documents, schedules, tasks, messages); managers
# and administrators publish announcements. Each intranet app adds its own rules
# (department folders and channels) on top.
_INTRANET = ["intranet.use_intranet"]
_INTRANET_LEAD = ["intranet.publish_announcement"]
# Rename, archive and change the members of any task board (a board's creator can
# always change their own).
_TASKS_LEAD = ["tasks.change_board"]
# Plan the rosters of one's teams and department, and approve leave (a counter's or the
# call centre's team lead gets these in the admin; there is no role of its own yet).
_SCHEDULES_LEAD = ["schedules.manage_roster", "schedules.approve_leave"]
# Create folders shared across departments; administrators manage any folder.
_DOCUMENTS_LEAD = ["documents.add_shared_folder"]
_DOCUMENTS_ADMIN = ["documents.add_shared_folder", "documents.manage_any_folder"]
# The management overview (/staff/insights/): the whole city, or one's own department.
_INSIGHTS_CITY = ["insights.view_city_dashboard", "insights.export_insights"]
_INSIGHTS_DEPARTMENT = ["insights.view_department_dashboard", "insights.export_insights"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    OPERATOR: _PERSON_READ + _PERSON_WRITE + _CASE_READ + _CASE_INTAKE + _CALLS + _ROBOT_PINS,
    REGISTRY_CLERK: _PERSON_READ
    + _PERSON_WRITE
    + _CASE_READ
    + _CASE_INTAKE
    + ["people.reveal_national_id", "people.merge_person"]
    + _REGISTRY_WORK
    + _ROBOT_PINS,
    DEPARTMENT_STAFF: _PERSON_READ
    + _CASE_READ
    + _CASE_WORK
    + ["cases.add_interaction", "cases.moderate_case"]
    + _REGISTRY_READ,
    FIELD_CREW: ["cases.view_case", "cases.view_caseevent"] + _CASE_WORK,
    MANAGER: _PERSON_READ
    + _CASE_READ
    + _CASE_WORK
    + ["cases.extend_deadline", "cases.merge_case", "cases.moderate_case"]
    + _CALLS
    + _ROBOT_KPIS
    + _MAIL_LOG
    + _REGISTRY_READ
    + ["registry.extend_entry", "registry.view_registry_reports"]
    + _INSIGHTS_DEPARTMENT,
    ADMINISTRATOR: _PERSON_READ
    + _PERSON_WRITE
    + _CASE_READ
    + _CASE_WORK
    + _CASE_INTAKE
    + _CALLS
    + _ROBOT_PINS
    + _ROBOT_KPIS
    + _MAIL_LOG
    + [
        "people.reveal_national_id",
        "people.merge_person",
        "cases.extend_deadline",
        "cases.merge_case",
        "cases.moderate_case",
        "core.view_auditlog",
        "core.add_closureday",
        "core.change_closureday",
        "core.view_closureday",
        "catalog.add_category",
        "catalog.change_category",
        "catalog.view_category",
        "catalog.add_department",
        "catalog.change_department",
        "catalog.view_department",
        "catalog.add_team",
        "catalog.change_team",
        "catalog.view_team",
        "catalog.add_area",
        "catalog.change_area",
        "catalog.view_area",
        "catalog.add_categoryroute",
        "catalog.change_categoryroute",
        "catalog.delete_categoryroute",
        "catalog.view_categoryroute",
        "catalog.add_outsideoperator",
        "catalog.change_outsideoperator",
        "catalog.view_outsideoperator",
        "catalog.add_staffprofile",
        "catalog.change_staffprofile",
        "catalog.view_staffprofile",
        "auth.add_user",
        "auth.change_user",
        "auth.view_user",
        "auth.view_group",
        # Reset another account's two-factor, unlock a locked-out one (cetatea.accounts).
        "accounts.manage_account_security",
    ]
    + _REGISTRY_WORK
    + _REGISTRY_SETUP
    + ["registry.extend_entry", "registry.view_registry_reports"]
    + _INSIGHTS_CITY
    + _PRIVACY_EXPORT,
    REVENUE_OFFICER: _PERSON_READ + _REVENUE + _ROBOT_PINS,
    # The mayor's office reads the whole city's figures and the cases behind them.
    LEADERSHIP: _CASE_READ
    + _ROBOT_KPIS
    + _REGISTRY_READ
    + ["registry.view_registry_reports"]
    + _INSIGHTS_CITY,
    # The data protection officer: finds a person, reads the audit log, exports and erases.
    DATA_PROTECTION: _PERSON_READ + _PRIVACY_EXPORT + ["privacy.erase_person"],
}
# Every role uses the intranet; managers and administrators lead it.
_INTRANET_EXTRA = {
    MANAGER: _INTRANET_LEAD + _TASKS_LEAD + _SCHEDULES_LEAD + _DOCUMENTS_LEAD,
    ADMINISTRATOR: _INTRANET_LEAD + _TASKS_LEAD + _SCHEDULES_LEAD + _DOCUMENTS_ADMIN,
    LEADERSHIP: _INTRANET_LEAD,
}
for _role, _perms in ROLE_PERMISSIONS.items():
    _perms += _INTRANET + _INTRANET_EXTRA.get(_role, [])


def sync_roles(**_kwargs) -> None:
    from django.contrib.auth.models import Group, Permission

    labels = {perm.split(".")[0] for perms in ROLE_PERMISSIONS.values() for perm in perms}
    existing = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.filter(
            content_type__app_label__in=labels
        ).values_list("pk", "content_type__app_label", "codename")
    }
    for role, perms in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        # A permission whose app has not run its own post_migrate yet is added next time.
        group.permissions.add(*[existing[p] for p in perms if p in existing])
