"""The weekly report's outside recipients on the web (admins): list, add (or update), remove,
with field messages for bad input (400, nothing saved), audited; other roles get 403; the
rows are the ones ``warta report recipients`` and the weekly report use."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from publisher.models import AuditEvent, ReportRecipient, Role
from publisher.notify import weekly


def rows(core):  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return [(r.unit_id, r.email, r.name, r.locale) for r in s.execute(
            select(ReportRecipient).order_by(ReportRecipient.id)).scalars()]


def test_an_admin_adds_updates_and_removes_recipients(core, make_user, login, units):
    c = login(make_user(Role.ADMIN, unit=None))
    page = c.get("/admin/laporan-mingguan").get_data(as_text=True)
    assert "Belum ada penerima lain." in page
    assert "Laporan mingguan: penerima lain" in c.get("/admin/").get_data(as_text=True)
    assert c.post("/admin/laporan-mingguan", data={
        "email": " Bupati@Kab.go.id ", "name": "Bupati", "lang": "id", "unit": ""}
    ).status_code == 302
    assert c.post("/admin/laporan-mingguan", data={
        "email": "kadis@dinsos.go.id", "name": "Kepala Dinas", "lang": "en",
        "unit": str(units["a"].id)}).status_code == 302
    # the same address for the same scope again: its name and language change
    c.post("/admin/laporan-mingguan", data={"email": "bupati@kab.go.id", "name": "Ibu Bupati",
                                            "lang": "en", "unit": ""})
    assert rows(core) == [(None, "bupati@kab.go.id", "Ibu Bupati", "en"),
                          (units["a"].id, "kadis@dinsos.go.id", "Kepala Dinas", "en")]
    page = c.get("/admin/laporan-mingguan").get_data(as_text=True)
    assert "Penerima disimpan." in page and "bupati@kab.go.id" in page
    assert "Seluruh wilayah" in page and "Dinas Sosial" in page
    with core.sessions() as s:  # what the weekly report sends to
        assert [r.email for r in weekly.recipients(s, units["a"].id)[1]] == [
            "kadis@dinsos.go.id"]
        kadis = s.execute(select(ReportRecipient).where(
            ReportRecipient.email == "kadis@dinsos.go.id")).scalar_one()
    assert c.post(f"/admin/laporan-mingguan/{kadis.id}/hapus").status_code == 302
    assert [r[1] for r in rows(core)] == ["bupati@kab.go.id"]
    with core.sessions() as s:
        events = [(e.action, e.data.get("email"), e.data.get("updated")) for e in s.execute(
            select(AuditEvent).where(AuditEvent.action.like("report.recipient%"))
            .order_by(AuditEvent.id)).scalars()]
    assert events == [("report.recipient_add", "bupati@kab.go.id", False),
                      ("report.recipient_add", "kadis@dinsos.go.id", False),
                      ("report.recipient_add", "bupati@kab.go.id", True),
                      ("report.recipient_remove", "kadis@dinsos.go.id", None)]
    audit_page = c.get("/admin/riwayat").get_data(as_text=True)
    assert "Penerima laporan mingguan ditambahkan" in audit_page
    assert "Penerima laporan mingguan dihapus" in audit_page


@pytest.mark.parametrize("form, field", [
    ({"email": "bukan-alamat"}, "email"),
    ({"email": "a@b.go.id, c@d.go.id"}, "email"),
    ({"email": "a@localhost"}, "email"),
    ({"email": "x" * 250 + "@b.go.id"}, "email"),
    ({"name": "n" * 201}, "name"),
    ({"lang": "jv"}, "lang"),
    ({"unit": "99999"}, "unit"),
    ({"unit": "²"}, "unit"),  # a digit to str.isdigit, not to int
    ({"unit": "99999999999"}, "unit"),  # beyond an INTEGER column (PostgreSQL refused it)
    ({"unit": "9" * 5000}, "unit"),
])
def test_bad_input_is_a_400_with_the_field_named_and_nothing_saved(core, make_user, login,
                                                                   form, field):
    c = login(make_user(Role.ADMIN, unit=None))
    resp = c.post("/admin/laporan-mingguan", data={
        "email": "bupati@kab.go.id", "name": "Bupati", "lang": "id", "unit": "", **form})
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert f'id="r-{field}"' in page
    assert rows(core) == []
    expected = {"email": "Tulis satu alamat e-mail", "name": "Nama paling banyak 200",
                "lang": "Pilih Bahasa Indonesia atau English", "unit": "Unit tidak dikenal"}
    assert expected[field] in page


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.APPROVER])
def test_only_admins_see_or_change_the_recipients(core, make_user, login, role):
    c = login(make_user(role))
    assert c.get("/admin/laporan-mingguan").status_code == 403
    assert c.post("/admin/laporan-mingguan", data={"email": "a@b.go.id"}).status_code == 403
    assert rows(core) == []


def test_removing_a_recipient_that_is_gone_is_a_404(make_user, login):
    c = login(make_user(Role.ADMIN, unit=None))
    assert c.post("/admin/laporan-mingguan/999/hapus").status_code == 404
