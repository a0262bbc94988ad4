"""The composer's Instagram post type: a select, with Story offered only where the adapter
takes it (the official Graph API, not instagrapi)."""

from __future__ import annotations

import pytest

from web.ui.posts.forms import option_widgets


def _choices(platform: str) -> list[str]:
    ((name, widget),) = option_widgets(["ig_type"], platform)
    assert name == "ig_type" and widget["type"] == "select"
    return [value for value, _label in widget["choices"]]


def test_story_offered_on_instagram_graph_only():
    assert _choices("instagram_graph") == ["feed", "reel", "story"]
    assert _choices("instagram") == ["feed", "reel"]


@pytest.mark.parametrize("platform, offered", [("instagram_graph", True),
                                               ("instagram", False)])
def test_composer_offers_story_on_an_instagram_graph_channel(client, core, login_as,  # type: ignore[no-untyped-def]
                                                             make_user, units, platform,
                                                             offered):
    from publisher.models import Channel, Role

    make_user(Role.ADMIN, None)
    with core.sessions.begin() as s:  # a row as the connect flow leaves it (no network here)
        row = Channel(unit_id=units["a"].id, platform=platform, name="Dinsos IG",
                      credentials_encrypted=b"x", state={})
        s.add(row)
        s.flush()
        ig = row.id
    login_as(Role.OPERATOR, "a")
    page = client.get("/unggahan/baru").get_data(as_text=True)
    assert f'name="o_opt_{ig}_ig_type"' in page
    assert ('value="story"' in page) is offered
