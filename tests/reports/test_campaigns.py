"""Campaign creation and compliance: who published, who is late, combined engagement."""

from __future__ import annotations

from tests.reports.conftest import utc


def test_compliance(app, client, login_as, core, units, clock, data):  # type: ignore[no-untyped-def]
    from publisher.models import CampaignUnit

    with core.sessions.begin() as s:
        s.add_all([CampaignUnit(campaign_id=data.campaign, unit_id=units["a"].id),
                   CampaignUnit(campaign_id=data.campaign, unit_id=units["b"].id)])
    clock.now = utc(2026, 11, 15)
    login_as("admin", None)
    html = client.get(f"/laporan/kampanye/{data.campaign}").get_data(as_text=True)
    assert "state-published" in html  # unit a published on 11-03, due 11-10
    assert "state-late" in html       # unit b never published, due date passed
    assert 'href="https://www.facebook.com/warta/' in html
    # combined engagement of the campaign: pub1 as of now (15) + pub2 (unknown)
    assert "<strong>15</strong>" in html


def test_create_campaign(app, client, login_as, units):  # type: ignore[no-untyped-def]
    app.config["WTF_CSRF_ENABLED"] = False
    login_as("operator", "a")
    assert client.post("/laporan/kampanye", data={"name": "X"}).status_code == 403
    login_as("admin", None)
    r = client.post("/laporan/kampanye", data={"name": "Stunting", "due_at": "2026-12-01T09:00",
                                               "units": [str(units["a"].id)]})
    assert r.status_code == 302
    assert "Stunting" in client.get(r.headers["Location"]).get_data(as_text=True)
    bad = client.post("/laporan/kampanye", data={"name": "", "units": []})
    assert bad.status_code == 400
