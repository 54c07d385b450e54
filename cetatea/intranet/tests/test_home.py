"""The intranet's home: my cases and my teams' with due times, announcements, panels."""

from __future__ import annotations

import datetime as dt
import sys
import types

import pytest
from django.urls import reverse
from django.utils import timezone

from cetatea.cases.models import Case
from cetatea.intranet import selectors, services
from conftest import make_case


def _case(title, *, assignee=None, team=None, due_in=dt.timedelta(days=3), status="new"):
    case = make_case(title=title, latitude=46.07, longitude=23.57)
    Case.objects.filter(pk=case.pk).update(
        assignee=assignee, team=team, due_at=timezone.now() + due_in, status=status
    )
    return Case.objects.get(pk=case.pk)


def test_home_shows_my_cases_and_my_teams_with_due_times(client, staffed):
    staff, crew, team = staffed["staff"], staffed["crew"], staffed["crew_team"]
    late = _case("Groapă adâncă", assignee=staff, due_in=-dt.timedelta(hours=5))
    soon = _case("Capac lipsă", assignee=staff, due_in=dt.timedelta(hours=20))
    closed = _case("Rezolvată", assignee=staff, status="fixed")
    teams = _case("Bordură", team=team, assignee=crew)
    nobody = _case("Semn căzut", team=team)
    elsewhere = _case("Altă echipă")
    client.force_login(staff)
    response = client.get(reverse("intranet:home"))
    assert response.status_code == 200
    cases = response.context["cases"]
    assert [c.pk for c in cases.mine] == [late.pk, soon.pk]  # soonest due first
    assert {c.pk for c in cases.team} == {teams.pk, nobody.pk}
    html = response.content.decode()
    for case in (late, soon, teams, nobody):
        assert reverse("console:case", args=[case.pk]) in html
        assert case.reference in html
    assert closed.reference not in html and elsewhere.reference not in html
    # The overdue case says so in words, not only in colour.
    row = html.split(late.reference)[1].split("</tr>")[0]
    assert "overdue" in row or "depășit" in row
    assert "overdue" not in html.split(soon.reference)[1].split("</tr>")[0]
    assert "assigned=me" in html and "team=mine" in html


def test_home_lists_are_bounded_with_a_link_to_the_queue(client, staffed):
    staff = staffed["staff"]
    for i in range(12):
        _case(f"Caz {i}", assignee=staff, due_in=dt.timedelta(hours=i + 1))
    client.force_login(staff)
    cases = client.get(reverse("intranet:home")).context["cases"]
    assert len(cases.mine) == 10 and cases.mine_more


def test_someone_without_cases_access_sees_no_cases_panel(client, staffed):
    client.force_login(staffed["revenue"])
    response = client.get(reverse("intranet:home"))
    assert response.status_code == 200
    assert not response.context["cases"].can_view
    assert 'id="cases-h"' not in response.content.decode()


def test_unread_announcements_are_marked_on_home(client, staffed):
    a = services.announcement_publish(author=staffed["manager"], title="Citiți vă rog", body="x")
    b = services.announcement_publish(author=staffed["manager"], title="Deja citit", body="y")
    services.announcement_mark_read(announcement=b, user=staffed["crew"])
    client.force_login(staffed["crew"])
    response = client.get(reverse("intranet:home"))
    assert [x.pk for x in response.context["unread"]] == [a.pk]
    html = response.content.decode()
    unread_item = html.split("Citiți vă rog")[0].rsplit("<li", 1)[1]
    assert 'class="unread"' in unread_item
    read_item = html.split("Deja citit")[0].rsplit("<li", 1)[1]
    assert 'class="unread"' not in read_item
    client.get(reverse("intranet:announcement", args=[a.pk]))
    assert client.get(reverse("intranet:home")).context["unread"] == []


def test_home_costs_the_same_with_more_data(
    client, staffed, django_assert_max_num_queries, monkeypatch
):
    # This page's own queries; each part's panel is measured by its own tests.
    monkeypatch.setattr(selectors, "PANEL_LABELS", ())
    staff, team = staffed["staff"], staffed["crew_team"]
    for i in range(30):
        _case(f"Mine {i}", assignee=staff)
        _case(f"Team {i}", team=team)
        services.announcement_publish(author=staffed["manager"], title=f"A{i}", body="x")
    client.force_login(staff)
    with django_assert_max_num_queries(13):
        response = client.get(reverse("intranet:home"))
    assert response.status_code == 200


# --- the other parts' panels --------------------------------------------------------------


@pytest.fixture
def fake_parts(monkeypatch, settings, tmp_path):
    """Two pretend intranet parts: one with a panel and its template, one without a
    template; plus a label whose selectors module does not exist at all."""
    with_panel = types.ModuleType("cetatea.intranet.fakepanel.selectors")
    with_panel.home_panel = lambda user: {"title": "Panou de probă", "user": user.username}
    no_template = types.ModuleType("cetatea.intranet.notemplate.selectors")
    no_template.home_panel = lambda user: {"title": "never"}
    no_function = types.ModuleType("cetatea.intranet.nofunction.selectors")
    for module in (with_panel, no_template, no_function):
        monkeypatch.setitem(sys.modules, module.__name__, module)
    (tmp_path / "fakepanel").mkdir()
    (tmp_path / "fakepanel" / "_home_panel.html").write_text(
        '<section aria-labelledby="fake-h"><h2 id="fake-h">{{ panel.title }}</h2>'
        "<p>{{ panel.user }}</p></section>"
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}
    ]
    monkeypatch.setattr(
        selectors, "PANEL_LABELS", ("missing", "fakepanel", "notemplate", "nofunction")
    )


def test_a_part_with_a_panel_is_on_home_and_the_others_are_skipped(client, staffed, fake_parts):
    client.force_login(staffed["crew"])
    response = client.get(reverse("intranet:home"))
    assert response.status_code == 200
    assert [p.label for p in response.context["panels"]] == ["fakepanel"]
    html = response.content.decode()
    assert '<h2 id="fake-h">Panou de probă</h2><p>crew</p>' in html
    assert "never" not in html


def test_home_renders_while_no_part_has_a_panel(client, staffed, monkeypatch):
    monkeypatch.setattr(selectors, "PANEL_LABELS", ("missing1", "missing2"))
    client.force_login(staffed["crew"])
    response = client.get(reverse("intranet:home"))
    assert response.status_code == 200 and response.context["panels"] == []


def test_an_error_inside_a_part_is_not_hidden(staffed, monkeypatch):
    broken = types.ModuleType("cetatea.intranet.broken.selectors")

    def home_panel(user):
        raise RuntimeError("bug in a panel")

    broken.home_panel = home_panel
    monkeypatch.setitem(sys.modules, broken.__name__, broken)
    monkeypatch.setattr(selectors, "PANEL_LABELS", ("broken",))
    monkeypatch.setattr(selectors, "select_template", lambda names: names[0])
    with pytest.raises(RuntimeError):
        selectors.home_panels(staffed["crew"])
