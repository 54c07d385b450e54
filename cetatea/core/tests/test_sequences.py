import threading

import pytest
from django.db import connection, transaction

from cetatea.core.models import Counter
from cetatea.core.sequences import next_number


@pytest.mark.django_db
def test_numbers_are_consecutive_per_year_and_restart_each_year():
    with transaction.atomic():
        assert [next_number("case", 2026) for _ in range(3)] == [1, 2, 3]
        assert next_number("case", 2027) == 1
        assert next_number("registry", 2026) == 1


@pytest.mark.django_db
def test_a_rolled_back_transaction_gives_its_number_back():
    with transaction.atomic():
        next_number("case", 2026)
    try:
        with transaction.atomic():
            next_number("case", 2026)
            raise RuntimeError("the case could not be saved")
    except RuntimeError:
        pass
    with transaction.atomic():
        assert next_number("case", 2026) == 2


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        next_number("case", 2026)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_get_unique_gap_free_numbers():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers are tested on PostgreSQL")
    taken: list[int] = []
    errors: list[Exception] = []
    barrier = threading.Barrier(8)

    def worker():
        from django.db import connections

        try:
            barrier.wait()
            for _ in range(25):
                with transaction.atomic():
                    taken.append(next_number("case", 2030))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(taken) == list(range(1, 201))
    assert Counter.objects.get(name="case", year=2030).value == 200
