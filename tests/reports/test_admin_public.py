"""The admin's switch for the public transparency page, with a preview of what it shows."""

from __future__ import annotations

from sqlalchemy import select

from publisher.models import AuditEvent, Role, Unit


def test_admin_opts_a_unit_into_the_public_page_after_a_preview(app, client, core, units, data,
                                                                 login_as):
    app.config["WTF_CSRF_ENABLED"] = False  # form posts without scraping a token
    login_as(Role.ADMIN, None)
    bappeda = units["b"].id
    assert "Bappeda" not in client.get("/publik/laporan?bulan=2026-11").get_data(as_text=True)
    preview = client.get(f"/admin/unit/{bappeda}/pratinjau-publik?bulan=2026-11")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and 'id="public-preview"' in html
    assert f"https://www.facebook.com/warta/{data.posts['p3']}/{data.channels['bfb']}" in html
    assert "Dinas Sosial" not in html.split('id="public-totals"')[1]  # only this unit
    r = client.post(f"/admin/unit/{bappeda}", data={"public_report": "1"})
    assert r.status_code == 302
    public = client.get("/publik/laporan?bulan=2026-11").get_data(as_text=True)
    assert "Bappeda" in public and f"/{data.posts['p3']}/" in public
    with core.sessions() as s:
        assert s.get(Unit, bappeda).public_report is True
        event = s.execute(select(AuditEvent).where(AuditEvent.action == "unit.update")
                          ).scalar_one()
        assert event.data == {"public_report": [False, True]}
    client.post(f"/admin/unit/{bappeda}", data={"public_report": "0"})
    assert "Bappeda" not in client.get("/publik/laporan?bulan=2026-11").get_data(as_text=True)
