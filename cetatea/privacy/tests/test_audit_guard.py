"""Audit rows cannot be changed or deleted: by the ORM, nor by SQL (database triggers)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from cetatea.core import audit_guard
from cetatea.core.models import AuditLog


@pytest.fixture
def row(db):
    return AuditLog.objects.create(action=AuditLog.Action.VIEW_PERSON, person_id=1, object_repr="x")


@pytest.fixture
def deletes_refused():
    """Outside the test suite's flush, as in production."""
    audit_guard.allow_delete_for_tests = False
    yield
    audit_guard.allow_delete_for_tests = True


def _sql(statement: str, params=()) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_orm_refuses_update_save_and_delete(row):
    with pytest.raises(PermissionError):
        AuditLog.objects.filter(pk=row.pk).update(reason="changed")
    row.reason = "changed"
    with pytest.raises(PermissionError):
        row.save()
    with pytest.raises(PermissionError):
        row.delete()


def test_sql_update_is_refused_by_the_database(row):
    with pytest.raises(DatabaseError, match="audit log rows cannot be changed"):
        _sql("UPDATE core_auditlog SET reason = %s WHERE id = %s", ["changed", row.pk])
    assert AuditLog.objects.get(pk=row.pk).reason == ""


def test_sql_delete_is_refused_by_the_database(row, deletes_refused):
    with pytest.raises(DatabaseError, match="audit log rows cannot be changed"):
        _sql("DELETE FROM core_auditlog WHERE id = %s", [row.pk])
    with pytest.raises(DatabaseError):
        _sql("DELETE FROM core_auditlog")
    assert AuditLog.objects.filter(pk=row.pk).exists()


def test_a_queryset_delete_is_refused_by_the_database(row, deletes_refused):
    # QuerySet.delete() does not go through Model.delete(): only the trigger stops it.
    with pytest.raises(DatabaseError):
        with transaction.atomic():
            AuditLog.objects.filter(pk=row.pk).delete()
    assert AuditLog.objects.filter(pk=row.pk).exists()


def test_inserting_still_works(row):
    AuditLog.objects.create(action=AuditLog.Action.EXPORT, person_id=2)
    assert AuditLog.objects.count() == 2


def test_install_is_idempotent_and_restores_removed_triggers(row, deletes_refused):
    audit_guard.remove(connection)
    _sql("UPDATE core_auditlog SET reason = %s WHERE id = %s", ["possible", row.pk])
    audit_guard.install(connection)
    audit_guard.install(connection)
    with pytest.raises(DatabaseError):
        _sql("UPDATE core_auditlog SET reason = %s WHERE id = %s", ["again", row.pk])


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_can_leave_audit_rows_for_the_flush():
    # The teardown flush (DELETE on SQLite, TRUNCATE on PostgreSQL) must succeed.
    AuditLog.objects.create(action=AuditLog.Action.VIEW_PERSON, person_id=3)
    assert AuditLog.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_flush_left_no_audit_rows():
    assert AuditLog.objects.count() == 0
