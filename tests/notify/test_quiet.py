"""Quiet hours in the recipient's own zone, across that zone's midnight; urgent kinds come
anyway."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from publisher.models import DeliveryStatus, Role, Unit
from publisher.notify.quiet import in_window, parse_hhmm, quiet_until
from tests.helpers import approved_post, sandbox_channel, set_control
from tests.notify.flows import deliveries, drain, jobs, set_prefs, submitted_post

NIGHT = {"quiet-start": "22.00", "quiet-end": "06.00"}
#: 06.00 WIT on 11 June 2026 (UTC+9)
WIT_MORNING = datetime(2026, 6, 10, 21, 0, tzinfo=UTC)


@pytest.mark.parametrize("now, zone, expected", [
    # 23:59:59 WIT and 00:00 WIT: either side of midnight, the same morning
    (datetime(2026, 6, 10, 14, 59, 59, tzinfo=UTC), "Asia/Jayapura", WIT_MORNING),
    (datetime(2026, 6, 10, 15, 0, tzinfo=UTC), "Asia/Jayapura", WIT_MORNING),
    # 05:59 WIT: one minute left
    (datetime(2026, 6, 10, 20, 59, tzinfo=UTC), "Asia/Jayapura", WIT_MORNING),
    # the same instant as the first is 21:59:59 in Jakarta: not quiet there yet
    (datetime(2026, 6, 10, 14, 59, 59, tzinfo=UTC), "Asia/Jakarta", None),
    # 22:00 WIB: quiet until 06:00 WIB the next day (23:00 UTC)
    (datetime(2026, 6, 10, 15, 0, tzinfo=UTC), "Asia/Jakarta",
     datetime(2026, 6, 10, 23, 0, tzinfo=UTC)),
    # 06:00 WIT exactly: the window has ended
    (WIT_MORNING, "Asia/Jayapura", None),
    # 10:00 WIB: daytime
    (datetime(2026, 6, 10, 3, 0, tzinfo=UTC), "Asia/Jakarta", None),
])
def test_quiet_until_crosses_the_zones_midnight(now, zone, expected):
    assert quiet_until(now, zone, 22 * 60, 6 * 60) == expected


def test_a_window_within_one_day_and_no_window():
    assert in_window(13 * 60, 12 * 60, 14 * 60) and not in_window(14 * 60, 12 * 60, 14 * 60)
    noon = datetime(2026, 6, 10, 5, 30, tzinfo=UTC)  # 12:30 WIB
    assert quiet_until(noon, "Asia/Jakarta", 12 * 60, 13 * 60) == datetime(
        2026, 6, 10, 6, 0, tzinfo=UTC)
    assert quiet_until(noon, "Asia/Jakarta", None, None) is None


@pytest.mark.parametrize("text, minutes", [("22.00", 1320), ("06:30", 390), ("0.05", 5),
                                           ("24.00", None), ("22", None), ("7.5", None),
                                           ("ab:cd", None), ("", None)])
def test_times_of_day_are_read_strictly(text, minutes):
    assert parse_hhmm(text) == minutes


def jayapura(core, units):
    with core.sessions.begin() as s:
        s.get(Unit, units["a"].id).timezone = "Asia/Jayapura"


@pytest.mark.parametrize("clock", ["wit-before-midnight", "wit-after-midnight"],
                         indirect=True)
def test_a_request_at_night_waits_for_the_recipients_morning(core, clock, units, make_user,
                                                             smtp_server):
    jayapura(core, units)
    op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    set_prefs(core, ap, {"kind-approval_requested": "email", **NIGHT})
    submitted_post(core, op)
    drain(core)
    [d] = deliveries(core)
    assert d.status == DeliveryStatus.PENDING and d.not_before == WIT_MORNING
    assert [j.run_at for j in jobs(core, "notify_send")] == [WIT_MORNING]
    assert smtp_server.messages == []
    clock.now = WIT_MORNING
    drain(core)
    assert len(smtp_server.messages) == 1


@pytest.mark.parametrize("clock", ["wit-after-midnight"], indirect=True)
def test_a_failure_breaks_the_quiet_hours(core, clock, units, make_user, smtp_server):
    jayapura(core, units)
    op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    set_prefs(core, op, {"kind-failed": "email", "kind-published": "email", **NIGHT})
    channel = sandbox_channel(core, op, "dinsos-fb")
    set_control(core, "dinsos-fb", mode="reject")
    approved_post(core, op, ap, [channel], when=clock())
    drain(core)
    kinds = {d.kind: d for d in deliveries(core)}
    assert set(kinds) == {"failed"}
    assert kinds["failed"].status == DeliveryStatus.SENT
    [m] = smtp_server.messages
    assert m.message["Subject"].startswith("Penayangan gagal")
