"""The audit log page and its CSV export: scope, filters, keyset pages, safe cells."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from moderation.admin import auditlog
from moderation.extensions import db
from moderation.models import AuditEntry, Moderator, Role
from moderation.services.audit import record

from staff_helpers import add_comment, add_moderator, add_site, login

DAY = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
FIRST_DAY_COMMENTS = ["comment.rejected", "comment.published"]


@pytest.fixture
def sites(app: Flask) -> dict[str, int]:
    return {"north": add_site(app, "north"), "south": add_site(app, "south")}


@pytest.fixture
def entries(app: Flask, sites) -> None:
    """Six entries on three days, two sites and no site."""
    rows = [
        ("comment.published", "comment", 1, "north", "a@example.com", DAY),
        ("comment.rejected", "comment", 2, "north", "b@example.com", DAY),
        ("ban.created", "ban", 7, "south", "a@example.com", DAY + timedelta(days=1)),
        ("site.settings", "site", 2, "south", "b@example.com", DAY + timedelta(days=1)),
        ("moderator.role", "moderator", 3, None, "admin@example.com", DAY),
        ("comment.held", "comment", 3, "north", "system", DAY + timedelta(days=2)),
    ]
    with app.app_context():
        for action, kind, target, site, actor, when in rows:
            entry = record(
                action,
                kind,
                target,
                actor=actor,
                site_id=sites[site] if site else None,
                before={"n": 1},
                after={"n": 2},
            )
            entry.created_at = when
        db.session.commit()


@pytest.fixture
def admin_client(app: Flask, sites):
    add_moderator(app, "admin@example.com", Role.ADMIN)
    return login(app, "admin@example.com")


@pytest.fixture
def north_client(app: Flask, sites):
    add_moderator(app, "north@example.com", sites=["north"])
    return login(app, "north@example.com")


def _actions(page_text: str) -> list[str]:
    return re.findall(r"<td>([a-z]+\.[a-z]+)</td>", page_text)


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.text)))


def test_admins_see_every_entry_newest_first(admin_client, entries):
    page = admin_client.get("/mod/admin/audit")
    assert page.status_code == 200
    assert _actions(page.text) == [
        "comment.held",
        "site.settings",
        "ban.created",
        "moderator.role",
        "comment.rejected",
        "comment.published",
    ]


def test_moderators_see_only_their_sites_entries(north_client, entries):
    page = north_client.get("/mod/admin/audit").text
    assert sorted(_actions(page)) == [
        "comment.held",
        "comment.published",
        "comment.rejected",
    ]
    rows = _csv(north_client.get("/mod/admin/audit.csv"))
    assert {row["site"] for row in rows} == {"north"}
    # Asking for another site's entries shows nothing, never that site's rows.
    assert _actions(north_client.get("/mod/admin/audit?site=south").text) == []


def test_audit_page_needs_a_login(client):
    assert client.get("/mod/admin/audit").status_code == 302
    assert client.get("/mod/admin/audit.csv").status_code == 302


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("action=comment.rejected", ["comment.rejected"]),
        ("action=comment.", ["comment.held", "comment.rejected", "comment.published"]),
        ("actor=A@Example.com", ["ban.created", "comment.published"]),
        ("site=south", ["site.settings", "ban.created"]),
        ("target=comment:3", ["comment.held"]),
        ("target=comment:", ["comment.held", "comment.rejected", "comment.published"]),
        ("target=2", ["site.settings", "comment.rejected"]),
        ("since=2026-03-11", ["comment.held", "site.settings", "ban.created"]),
        (
            "until=2026-03-10",
            ["moderator.role", "comment.rejected", "comment.published"],
        ),
        ("since=2026-03-11&until=2026-03-11", ["site.settings", "ban.created"]),
        ("action=comment.&site=north&actor=system", ["comment.held"]),
    ],
)
def test_filters(admin_client, entries, query, expected):
    assert _actions(admin_client.get(f"/mod/admin/audit?{query}").text) == expected
    rows = _csv(admin_client.get(f"/mod/admin/audit.csv?{query}"))
    assert [row["action"] for row in rows] == expected


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("since=yesterday", 422),
        ("until=2026-13-01", 422),
        ("site=nowhere", 404),
        ("cursor=not-a-cursor", 422),
        ("cursor=bm90fGE", 422),  # "not|a"
    ],
)
def test_bad_filters_are_4xx(admin_client, entries, query, status):
    assert admin_client.get(f"/mod/admin/audit?{query}").status_code == status
    if "cursor" not in query:
        assert admin_client.get(f"/mod/admin/audit.csv?{query}").status_code == status


def test_keyset_pages_cover_every_entry_once_even_with_equal_times(
    app, admin_client, sites
):
    with app.app_context():
        for number in range(120):
            entry = record("comment.held", "comment", number, actor="system")
            # Ties: three entries share each second.
            entry.created_at = DAY + timedelta(seconds=number // 3)
        db.session.commit()
        viewer = db.session.scalar(sa.select(Moderator).filter_by(role="admin"))
        seen: list[int] = []
        cursor = None
        pages = 0
        while True:
            found = auditlog.page(viewer, auditlog.AuditFilter(), cursor, size=50)
            seen += [entry.id for entry, _ in found.rows]
            pages += 1
            if found.next_cursor is None:
                break
            cursor = found.next_cursor
    assert pages == 3
    assert len(seen) == len(set(seen)) == 120
    with app.app_context():
        expected = db.session.scalars(
            sa.select(AuditEntry.id).order_by(
                AuditEntry.created_at.desc(), AuditEntry.id.desc()
            )
        ).all()
    assert seen == expected
    # The page links to the next one, filters kept.
    page = admin_client.get("/mod/admin/audit?action=comment.held").text
    link = re.search(r'rel="next" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert "action=comment.held" in link
    assert len(_actions(admin_client.get(link).text)) == 50


def test_csv_quotes_cells_and_defuses_formulas(app, admin_client, sites):
    with app.app_context():
        record(
            "handle.standing",
            "handle",
            '=HYPERLINK("http://evil")',
            actor="@admin",
            site_id=sites["north"],
            before={"note": 'a "quoted", value'},
            after={"trust": "-1"},
            reason='+1, "quoted"\nsecond line',
        )
        record("comment.held", "comment", "-5", actor="system", reason="fine")
        db.session.commit()
    response = admin_client.get("/mod/admin/audit.csv")
    assert response.is_streamed
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _csv(response)
    assert list(rows[0]) == list(auditlog.CSV_COLUMNS)
    dangerous = next(row for row in rows if row["action"] == "handle.standing")
    assert dangerous["target_id"] == '\'=HYPERLINK("http://evil")'
    assert dangerous["actor"] == "'@admin"
    assert dangerous["reason"] == '\'+1, "quoted"\nsecond line'
    assert json.loads(dangerous["before"]) == {"note": 'a "quoted", value'}
    assert json.loads(dangerous["after"]) == {"trust": "-1"}
    assert dangerous["site"] == "north"
    plain = next(row for row in rows if row["action"] == "comment.held")
    assert plain["target_id"] == "'-5"
    assert plain["reason"] == "fine" and plain["before"] == ""
    assert datetime.fromisoformat(plain["created_at"]).tzinfo is not None


def test_csv_export_reads_in_batches(app, admin_client, sites, monkeypatch):
    monkeypatch.setattr(auditlog, "EXPORT_BATCH", 7)
    with app.app_context():
        for number in range(30):
            record("comment.held", "comment", number, actor="system")
        db.session.commit()
    rows = _csv(admin_client.get("/mod/admin/audit.csv"))
    assert sorted(int(row["target_id"]) for row in rows) == list(range(30))


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (12, "12"),
    ],
)
def test_safe_cell(value, safe):
    assert auditlog.safe_cell(value) == safe


def test_a_moderators_decision_appears_in_the_log(app, sites, north_client):
    comment_id = add_comment(app, "north")
    response = north_client.post(
        f"/mod/comments/{comment_id}/decision",
        data={"action": "reject", "reason_code": "spam"},
    )
    assert response.status_code in (302, 303), response.status_code
    rows = _csv(north_client.get(f"/mod/admin/audit.csv?target=comment:{comment_id}"))
    assert [(row["action"], row["actor"]) for row in rows] == [
        ("comment.rejected", "north@example.com")
    ]
    assert json.loads(rows[0]["after"]) == {"status": "rejected"}
