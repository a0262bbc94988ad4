"""The composer's Facebook post type: feed, Reel or Page Story, offered on a Facebook channel;
a choice the select did not offer is a field error, not a guess."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from web.ui.posts.forms import channel_info, channel_widgets, option_widgets, parse_composer


def test_facebook_offers_feed_reel_and_story():
    ((name, widget),) = option_widgets(["fb_type"], "facebook")
    assert name == "fb_type" and widget["type"] == "select"
    assert [v for v, _label in widget["choices"]] == ["feed", "reel", "story"]


def test_composer_page_offers_the_types_on_a_facebook_channel(client, core, login_as,  # type: ignore[no-untyped-def]
                                                              make_user, units):
    from publisher.models import Channel, Role

    make_user(Role.ADMIN, None)
    with core.sessions.begin() as s:  # a row as the connect flow leaves it (no network here)
        row = Channel(unit_id=units["a"].id, platform="facebook", name="Dinsos FB",
                      credentials_encrypted=b"x", state={})
        s.add(row)
        s.flush()
        fb = row.id
    login_as(Role.OPERATOR, "a")
    page = client.get("/unggahan/baru").get_data(as_text=True)
    assert f'name="o_opt_{fb}_fb_type"' in page
    assert 'value="reel"' in page and 'value="story"' in page
    with core.sessions() as s:
        ch = s.get(Channel, fb)
        assert [n for n, _w in channel_widgets(channel_info(ch))] == ["fb_type"]
        form = MultiDict([("body", "x"), ("channels", str(fb)),
                          (f"o_opt_{fb}_fb_type", "reel")])
        data, errors = parse_composer(form, {fb: ch}, "Asia/Jakarta")
        assert errors == {} and data.overrides[str(fb)]["options"] == {"fb_type": "reel"}
        form = MultiDict([("body", "x"), ("channels", str(fb)),
                          (f"o_opt_{fb}_fb_type", "carousel")])
        _data, errors = parse_composer(form, {fb: ch}, "Asia/Jakarta")
        assert f"o_opt_{fb}_fb_type" in errors
