"""The emergency pages: admins only, refusals as a 4xx with their message, the dashboard's
account-by-account view and the post-mortem with each account's publish time and the trail."""

from __future__ import annotations

import re

from sqlalchemy import select

from publisher.models import Emergency, User
from publisher.worker import run_once
from tests.emergency.conftest import ACCOUNTS_A, ACCOUNTS_B, DISABLED, World


def _as(client, user: User) -> None:  # type: ignore[no-untyped-def]
    with client.session_transaction() as sess:
        sess["_user_id"] = str(user.id)
        sess["_fresh"] = True


def _hash(page: str) -> str:
    found = re.search(r'name="hash" value="([0-9a-f]{64})"', page)
    assert found, "the confirm form carries the content hash"
    return found.group(1)


def test_the_pages_from_start_to_post_mortem(client, core, world: World) -> None:  # type: ignore[no-untyped-def]
    _as(client, world.operator)
    assert client.get("/admin/darurat").status_code == 403
    _as(client, world.starter)
    bad = client.post("/admin/darurat", data={"title": "", "body": "", "all_units": "1"})
    assert bad.status_code == 400 and "field-error" in bad.get_data(as_text=True)
    started = client.post("/admin/darurat", data={
        "title": "Banjir", "body": "Banjir di Kali Code: mengungsi ke balai desa.",
        "all_units": "1"})
    assert started.status_code == 302
    with core.sessions() as s:
        em_id = s.execute(select(Emergency.id)).scalar_one()
    detail = f"/admin/darurat/{em_id}"
    seen = _hash(client.get(detail).get_data(as_text=True))
    own = client.post(f"{detail}/konfirmasi", data={"hash": seen})
    assert own.status_code == 403
    assert "admin kedua" in own.get_data(as_text=True)  # the reason, in Indonesian
    # The third admin edits: the confirmer's page (the old hash) is no longer enough.
    _as(client, world.third)
    assert client.post(f"{detail}/ubah", data={
        "title": "Banjir", "body": "Banjir di Kali Code: mengungsi ke masjid.",
        "all_units": "1"}).status_code == 302
    _as(client, world.confirmer)
    stale = client.post(f"{detail}/konfirmasi", data={"hash": seen})
    assert stale.status_code == 409
    fresh = _hash(client.get(detail).get_data(as_text=True))
    assert client.post(f"{detail}/konfirmasi", data={"hash": fresh}).status_code == 302
    dash = client.get("/").get_data(as_text=True)
    assert f'data-emergency="{em_id}"' in dash
    run_once(core)
    dash = client.get("/").get_data(as_text=True)
    for account in [*ACCOUNTS_A, *ACCOUNTS_B]:
        assert account in dash
    assert DISABLED not in dash
    report = client.get(f"{detail}/pascakejadian")
    assert report.status_code == 200
    text = report.get_data(as_text=True)
    for account in [*ACCOUNTS_A, *ACCOUNTS_B]:
        assert account in text
    assert text.count("emergency.") == 0  # every action has its label
    _as(client, world.operator)  # a unit's user sees only their unit's accounts
    dash = client.get("/").get_data(as_text=True)
    assert all(a in dash for a in ACCOUNTS_A) and not any(a in dash for a in ACCOUNTS_B)
    assert client.get(f"{detail}/pascakejadian").status_code == 403
