"""The composer's Instagram post type: a select, with Story offered only where the adapter
takes it (the official Graph API, not instagrapi)."""

from __future__ import annotations

from web.ui.posts.forms import option_widgets


def _choices(platform: str) -> list[str]:
    ((name, widget),) = option_widgets(["ig_type"], platform)
    assert name == "ig_type" and widget["type"] == "select"
    return [value for value, _label in widget["choices"]]


def test_story_offered_on_instagram_graph_only():
    assert _choices("instagram_graph") == ["feed", "reel", "story"]
    assert _choices("instagram") == ["feed", "reel"]
