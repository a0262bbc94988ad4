"""Demo data for a first look and for training workshops: one unit, three users, sandbox
channels and a few posts in different states. Idempotent: a second run changes nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from publisher.core import Core
from publisher.models import Unit, User
from publisher.services import channels as channel_svc
from publisher.services import org
from publisher.services import posts as post_svc

DEMO_PASSWORD = "warta-demo-2026"
USERS = (("admin@demo.go.id", "Admin Diskominfo", "admin"),
         ("operator@demo.go.id", "Operator Dinsos", "operator"),
         ("penyetuju@demo.go.id", "Penyetuju Dinsos", "approver"))


def seed_demo(core: Core) -> list[str]:
    lines: list[str] = []
    with core.sessions.begin() as s:
        if s.execute(select(Unit).where(Unit.slug == "dinsos-demo")).scalar_one_or_none():
            return [f"Demo sudah ada. Masuk sebagai {e} / {DEMO_PASSWORD}" for e, _, _ in USERS]
        unit = org.create_unit(s, name="Dinas Sosial (Demo)", slug="dinsos-demo",
                               timezone=core.settings.timezone)
        users = {role: org.create_user(s, email=e, name=n, role=role,
                                       unit=None if role == "admin" else unit,
                                       password=DEMO_PASSWORD, check_strength=False)
                 for e, n, role in USERS}
    with core.sessions.begin() as s:
        op = s.get(User, users["operator"].id)
        fb = channel_svc.create_channel(core, s, op, platform="sandbox", name="Facebook Dinsos",
                                        credentials={"account": "dinsos-facebook", "token": "d"})
        ig = channel_svc.create_channel(core, s, op, platform="sandbox", name="Instagram Dinsos",
                                        credentials={"account": "dinsos-instagram", "token": "d"})
        now = core.now()
        post_svc.create_post(core, s, op, post_svc.PostInput(
            body="Pendaftaran bantuan sosial tahap 2 dibuka sampai 15 Desember. "
                 "Datang ke kantor kelurahan dengan KTP dan KK.", channels=[fb.id, ig.id]))
        waiting = post_svc.create_post(core, s, op, post_svc.PostInput(
            body="Posyandu keliling hadir di Kecamatan Sukamaju Sabtu ini, pukul 08.00 WIB.",
            channels=[fb.id], scheduled_at=now + timedelta(days=1)))
        post_svc.submit_post(core, s, op, waiting.id)
        sched = post_svc.create_post(core, s, op, post_svc.PostInput(
            body="Layanan pengaduan warga kini bisa lewat WhatsApp resmi Dinas Sosial.",
            channels=[fb.id, ig.id], scheduled_at=now + timedelta(minutes=2)))
        post_svc.submit_post(core, s, op, sched.id)
        sched_id = sched.id
    with core.sessions.begin() as s:
        post_svc.approve_post(core, s, s.get(User, users["approver"].id), sched_id)
    lines.append("Demo siap / demo ready: unit 'Dinas Sosial (Demo)', 2 akun sandbox, 3 unggahan.")
    for email, _, role in USERS:
        lines.append(f"  {role:9} {email}  kata sandi / password: {DEMO_PASSWORD}")
    lines.append("Unggahan sandbox ditulis ke / sandbox posts go to: "
                 f"{core.settings.sandbox_outbox}")
    return lines
