"""Post templates and hashtag sets (issue 21), on both backends: CRUD pages (a unit's own,
the region's by admins, audited), validation (400 with field messages, names unique per
owner), isolation (another unit's id is a 404), and the composer's "Pakai templat" and
"Sisipkan tagar" round-trips."""

from __future__ import annotations

from sqlalchemy import select

from publisher.models import AuditEvent, Role, User
from publisher.models.template import HashtagSet, PostTemplate
from publisher.services import templates as T

BODY = "Posyandu keliling hadir {tanggal} di {lokasi}. Bawa buku KIA."


def made(core, model):  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return s.execute(select(model).order_by(model.id)).scalars().all()


def audit_codes(core):  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return [e.action for e in s.execute(select(AuditEvent).where(
            AuditEvent.object_type.in_(["post_template", "hashtag_set"]))
            .order_by(AuditEvent.id)).scalars()]


def new_template(core, user, unit_id=None, name="Posyandu", body=BODY, **kw):  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        return T.create_template(core, s, s.get(User, user.id), name=name, body=body,
                                 unit_id=unit_id, **kw).id


def new_set(core, user, unit_id=None, name="Kesehatan", tags="#SehatBersama #Posyandu"):  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        return T.create_set(core, s, s.get(User, user.id), name=name, tags=tags,
                            unit_id=unit_id).id


# -- pure helpers -----------------------------------------------------------------------------
def test_append_tags_adds_only_missing_whole_tags() -> None:
    assert T.append_tags("Halo #jagajakarta", ["#JagaJakarta", "#Jaga"]) == \
        "Halo #jagajakarta\n\n#Jaga"
    assert T.append_tags("Halo #A", ["#a"]) == "Halo #A"
    assert T.append_tags("", ["#A", "#B"]) == "#A #B"
    assert T.placeholders(BODY + " {tanggal}") == ["tanggal", "lokasi"]
    assert T.parse_tags("#A, #b\n#a  #C") == ["#A", "#b", "#C"]


# -- CRUD pages -------------------------------------------------------------------------------
def test_operator_keeps_the_units_templates_audited(client, login_as, core, units,  # type: ignore[no-untyped-def]
                                                    make_user, make_channel):
    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin)
    login_as(Role.OPERATOR, "a")
    page = client.get("/templat").get_data(as_text=True)
    assert "Templat dan set tagar" in page and "Belum ada templat" in page
    r = client.post("/templat", data={"name": "Posyandu", "body": BODY, "channels": [str(ch)],
                                      "unit": str(units["b"].id)})
    assert r.status_code == 302
    [t] = made(core, PostTemplate)
    # the form's unit is ignored for a non-admin: the template is the operator's unit's
    assert (t.unit_id, t.name, t.channel_ids) == (units["a"].id, "Posyandu", [ch])
    page = client.get("/templat").get_data(as_text=True)
    assert "{tanggal}" in page and "{lokasi}" in page
    r = client.post(f"/templat/{t.id}", data={"name": "Posyandu Juni", "body": "Baru {jam}"})
    assert r.status_code == 302
    [t] = made(core, PostTemplate)
    assert (t.name, t.body, t.channel_ids) == ("Posyandu Juni", "Baru {jam}", [])
    r = client.post("/tagar", data={"name": "Sehat", "tags": "#Sehat #Posyandu #sehat"})
    assert r.status_code == 302
    [h] = made(core, HashtagSet)
    assert (h.unit_id, h.tags) == (units["a"].id, "#Sehat #Posyandu")
    assert client.post(f"/tagar/{h.id}", data={"name": "Sehat", "tags": "#A"}).status_code == 302
    assert client.post(f"/tagar/{h.id}/hapus").status_code == 302
    assert client.post(f"/templat/{t.id}/hapus").status_code == 302
    assert made(core, PostTemplate) == [] and made(core, HashtagSet) == []
    assert audit_codes(core) == ["template.create", "template.update", "hashtag_set.create",
                                 "hashtag_set.update", "hashtag_set.delete", "template.delete"]


def test_bad_input_is_a_400_with_field_messages(client, login_as, core, make_user,  # type: ignore[no-untyped-def]
                                                make_channel):
    user = login_as(Role.APPROVER, "a")
    new_template(core, user, name="Posyandu")
    r = client.post("/templat", data={"name": "  posyandu ", "body": ""})
    page = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "sudah dipakai" in page and "Tulis isi templat" in page
    r = client.post("/templat", data={"name": "x" * 101, "body": "y" * 5001})
    assert r.status_code == 400 and "paling banyak 100 karakter" in r.get_data(as_text=True)
    other = make_channel(make_user(Role.ADMIN, None), unit="b", name="B FB", account="b-fb")
    r = client.post("/templat", data={"name": "Lain", "body": "Teks", "channels": [str(other)]})
    assert r.status_code == 400 and "Pilih akun milik unit" in r.get_data(as_text=True)
    r = client.post("/tagar", data={"name": "Salah", "tags": "#oke bukan-tagar"})
    assert r.status_code == 400 and "bukan tagar: bukan-tagar" in r.get_data(as_text=True)
    many = " ".join(f"#t{i}" for i in range(31))
    r = client.post("/tagar", data={"name": "Banyak", "tags": many})
    assert r.status_code == 400
    assert [t.name for t in made(core, PostTemplate)] == ["Posyandu"]
    assert made(core, HashtagSet) == []
    # English too, for a user who reads English
    with core.sessions.begin() as s:
        s.get(User, user.id).locale = "en"
    r = client.post("/tagar", data={"name": "", "tags": ""})
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and "Write a name" in page and "Write 1-30 hashtags" in page


def test_region_ones_are_the_admins_offered_to_every_unit(client, login_as, core, units,  # type: ignore[no-untyped-def]
                                                          make_user):
    admin = make_user(Role.ADMIN, None)
    region = new_template(core, admin, None, name="HUT Kota")
    # the same name may exist once per owner: the region's and a unit's
    new_template(core, admin, units["a"].id, name="HUT Kota")
    login_as(Role.OPERATOR, "b")
    page = client.get("/templat").get_data(as_text=True)
    assert "HUT Kota" in page and f"/templat/{region}/hapus" not in page
    assert client.post(f"/templat/{region}", data={"name": "x", "body": "y"}).status_code == 403
    assert client.post(f"/templat/{region}/hapus").status_code == 403
    assert [t.name for t in made(core, PostTemplate)] == ["HUT Kota", "HUT Kota"]
    composer = client.get("/unggahan/baru").get_data(as_text=True)
    assert composer.count("HUT Kota") == 1  # the region's; unit A's is not offered to B


def test_another_units_template_and_set_are_not_found(client, login_as, core, units,  # type: ignore[no-untyped-def]
                                                      make_user):
    admin = make_user(Role.ADMIN, None)
    t = new_template(core, admin, units["b"].id, name="Rahasia B", body="rahasia-b {x}")
    h = new_set(core, admin, units["b"].id, name="Tagar B", tags="#RahasiaB")
    login_as(Role.OPERATOR, "a")
    for url in (f"/templat/{t}", f"/tagar/{h}"):
        assert client.get(url).status_code == 404
        assert client.post(url, data={"name": "x", "body": "y", "tags": "#x"}).status_code == 404
        assert client.post(url + "/hapus").status_code == 404
    assert "Rahasia" not in client.get("/templat").get_data(as_text=True)
    page = client.get(f"/unggahan/baru?templat={t}").get_data(as_text=True)
    assert "rahasia-b" not in page and "Pilih templat" in page
    r = client.post("/unggahan/baru", data={"body": "Halo", "action": "tags", "tagset": str(h)})
    assert r.status_code == 200 and "#RahasiaB" not in r.get_data(as_text=True)
    assert [x.name for x in made(core, PostTemplate)] == ["Rahasia B"]


# -- the composer -------------------------------------------------------------------------------
def test_composer_prefills_from_a_template_and_inserts_hashtags(client, login_as, core,  # type: ignore[no-untyped-def]
                                                                units, make_user, make_channel):
    from publisher.models import Campaign, Post

    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin)
    with core.sessions.begin() as s:
        camp = Campaign(name="Bulan Imunisasi", unit_id=units["a"].id)
        s.add(camp)
        s.flush()
        camp_id = camp.id
    user = login_as(Role.OPERATOR, "a")
    t = new_template(core, user, name="Posyandu", channel_ids=[ch], campaign_id=camp_id)
    h = new_set(core, user, name="Sehat", tags="#SehatBersama #Posyandu")
    page = client.get(f"/unggahan/baru?templat={t}").get_data(as_text=True)
    assert "Bawa buku KIA." in page and "Pakai templat" in page and "Sisipkan tagar" in page
    assert f'value="{ch}" checked' in page and f'value="{camp_id}" selected' in page
    assert 'id="placeholders"' in page and "<code>{tanggal}</code>" in page
    # in the form: the text typed so far stays, the template follows it; nothing is saved
    r = client.post("/unggahan/baru", data={"body": "Pengumuman:", "action": "template",
                                            "template": str(t)})
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "Pengumuman:\n\nPosyandu keliling hadir {tanggal}" in page
    r = client.post("/unggahan/baru", data={"body": "Ayo ke posyandu #posyandu",
                                            "channels": [str(ch)], "action": "tags",
                                            "tagset": str(h)})
    page = r.get_data(as_text=True)
    assert "Ayo ke posyandu #posyandu\n\n#SehatBersama</textarea>" in page
    assert f'value="{ch}" checked' in page
    with core.sessions() as s:
        assert s.execute(select(Post)).first() is None
    # on an existing draft too
    r = client.post("/unggahan/baru", data={"body": "Draf", "channels": [str(ch)],
                                            "action": "draft"})
    assert r.status_code == 302
    edit = r.headers["Location"]
    r = client.post(edit, data={"body": "Draf", "channels": [str(ch)], "action": "tags",
                                "tagset": str(h)})
    assert "Draf\n\n#SehatBersama #Posyandu</textarea>" in r.get_data(as_text=True)
    with core.sessions() as s:
        assert s.execute(select(Post.body)).scalar_one() == "Draf"
