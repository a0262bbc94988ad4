"""The public page and its open data: opted-in units only, published only, no staff names."""

from __future__ import annotations

import csv
import io

from publisher.models import Unit


def _opt_in(core, units, key):  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        s.get(Unit, units[key].id).public_report = True


def test_nothing_without_opt_in(client, data):  # type: ignore[no-untyped-def]
    html = client.get("/publik/laporan?bulan=2026-11").get_data(as_text=True)
    assert "Dinas Sosial" not in html and "Bappeda" not in html
    body = client.get("/publik/laporan.json?bulan=2026-11").get_json()
    assert body["totals"] == [] and body["publications"] == []


def test_only_opted_in_published(client, core, units, data):  # type: ignore[no-untyped-def]
    _opt_in(core, units, "b")
    r = client.get("/publik/laporan?bulan=2026-11")  # no login needed
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Bappeda" in html and "Dinas Sosial" not in html
    assert "Operator" not in html  # no staff names (authors are "Operator a")
    body = client.get("/publik/laporan.json?bulan=2026-11").get_json()
    assert [(t["unit"], t["platform"], t["engagements"]) for t in body["totals"]] == [
        ("Bappeda", "facebook", 30)]
    assert [p["permalink"] for p in body["publications"]] == [
        f"https://www.facebook.com/warta/{data.posts['p3']}/{data.channels['bfb']}"]
    assert "author" not in str(body) and "body" not in body["publications"][0]
    rows = list(csv.DictReader(io.StringIO(
        client.get("/publik/laporan.csv?bulan=2026-11").get_data(as_text=True))))
    assert [(r["unit"], r["engagements"], r["reach"]) for r in rows] == [("Bappeda", "30", "300")]


def test_opted_in_unit_never_shows_drafts(client, core, units, data):  # type: ignore[no-untyped-def]
    _opt_in(core, units, "a")
    html = client.get("/publik/laporan?bulan=2026-11").get_data(as_text=True)
    assert "Draf rahasia" not in html and "Bantuan sosial" not in html  # no post text at all
    body = client.get("/publik/laporan.json?bulan=2026-11").get_json()
    assert sum(t["publications"] for t in body["totals"]) == 4  # P5's queued/failed excluded
    assert all(p["permalink"] for p in body["publications"])
    assert client.get("/publik/laporan?bulan=xx").status_code == 400
