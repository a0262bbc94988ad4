"""The Webhook page: admins only; a refused form names its fields (400) and keeps the input
except the secret; the secret is never rendered; add and remove are audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from publisher.models import AuditEvent, NotifyWebhook, Role

SECRET = "rahasia-webhook-diskominfo-2026"


FORM = {"name": "Dasbor Diskominfo", "url": "https://dasbor.kab.go.id/warta",
        "secret": SECRET, "unit": "", "kinds": ["approval_requested", "failed"]}


def test_an_admin_adds_and_removes_a_webhook(core, make_user, login, units):
    admin = make_user(Role.ADMIN, unit=None)
    c = login(admin)
    page = c.get("/admin/webhook").get_data(as_text=True)
    assert "Belum ada webhook." in page and "X-Warta-Signature" in page
    assert "Webhook" in c.get("/admin/").get_data(as_text=True)
    resp = c.post("/admin/webhook", data={**FORM, "unit": str(units["a"].id)})
    assert resp.status_code == 302
    page = c.get("/admin/webhook").get_data(as_text=True)
    assert "Webhook disimpan" in page and "https://dasbor.kab.go.id/warta" in page
    assert "Dinas Sosial" in page and "Permintaan persetujuan" in page
    assert SECRET not in page
    with core.sessions() as s:
        [hook] = s.execute(select(NotifyWebhook)).scalars()
        assert hook.unit_id == units["a"].id and hook.kinds == ["approval_requested", "failed"]
    resp = c.post(f"/admin/webhook/{hook.id}/hapus")
    assert resp.status_code == 302
    page = c.get("/admin/webhook").get_data(as_text=True)
    assert "Webhook dihapus." in page and "Belum ada webhook." in page
    with core.sessions() as s:
        assert s.execute(select(NotifyWebhook)).scalars().all() == []
        actions = [e.action for e in s.execute(select(AuditEvent).order_by(AuditEvent.id))
                   .scalars() if e.action.startswith("notify.webhook")]
        assert actions == ["notify.webhook_add", "notify.webhook_remove"]
    audit_page = c.get("/admin/riwayat").get_data(as_text=True)
    assert "Webhook ditambahkan" in audit_page and "Webhook dihapus" in audit_page
    assert SECRET not in audit_page


def test_a_refused_form_names_its_fields_and_never_echoes_the_secret(core, make_user, login):
    c = login(make_user(Role.ADMIN, unit=None))
    resp = c.post("/admin/webhook", data={**FORM, "url": "http://dasbor.kab.go.id/x",
                                           "kinds": []})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "Pakai https" in page and "Pilih setidaknya satu jenis notifikasi." in page
    assert 'value="Dasbor Diskominfo"' in page and "http://dasbor.kab.go.id/x" in page
    assert SECRET not in page
    with core.sessions() as s:
        assert s.execute(select(NotifyWebhook)).scalars().all() == []


@pytest.mark.parametrize("unit", ["²", "99999999999", "9" * 5000])
def test_a_unit_that_is_no_id_is_a_400_naming_it(core, make_user, login, unit):
    c = login(make_user(Role.ADMIN, unit=None))
    resp = c.post("/admin/webhook", data={**FORM, "unit": unit})
    assert resp.status_code == 400 and "Unit tidak dikenal." in resp.get_data(as_text=True)
    with core.sessions() as s:
        assert s.execute(select(NotifyWebhook)).scalars().all() == []


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.APPROVER])
def test_only_admins_see_or_change_webhooks(core, make_user, login, role):
    c = login(make_user(role))
    assert c.get("/admin/webhook").status_code == 403
    assert c.post("/admin/webhook", data=FORM).status_code == 403
    with core.sessions() as s:
        assert s.execute(select(NotifyWebhook)).scalars().all() == []


def test_removing_a_webhook_that_is_gone_is_a_404(make_user, login):
    c = login(make_user(Role.ADMIN, unit=None))
    assert c.post("/admin/webhook/999/hapus").status_code == 404
