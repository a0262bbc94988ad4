"""Which of a post's media go to which channel (the per-channel ``media`` override).

One post for several platforms often cannot send every medium everywhere: a Threads carousel
takes all the photos and the video, while a TikTok video, a Facebook Reel and an Instagram
Story take exactly one video. The operator ticks, per channel, the media that channel gets;
without a choice a channel gets all of the post's media (what Warta always did). The choice
lives in ``post.overrides[<channel id>]["media"]`` (a list of media ids, a subset of the
post's), so the approval's content hash covers it like every other per-channel setting.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from publisher.services.errors import Text


def choice_error(value: Any, post_media: Sequence[int]) -> Text | None:
    """Why ``value`` is not a valid media choice for a post with ``post_media`` (None: it is)."""
    if not isinstance(value, list) or not value or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in value):
        return Text("Pilihan media per akun harus berisi minimal satu media unggahan ini.",
                    "A channel's media choice must list at least one of the post's media.")
    stray = [i for i in value if i not in set(post_media)]
    if stray:
        return Text(f"Media #{stray[0]} dipilih untuk satu akun tetapi tidak ada di unggahan "
                    "ini.", f"Media #{stray[0]} is chosen for a channel but is not in this "
                    "post.")
    return None


def prune(overrides: dict[str, Any] | None, post_media: Sequence[int]) -> dict[str, Any]:
    """The overrides after the post's media changed: a choice keeps only media still in the
    post; a choice left empty is dropped (that channel then gets all media again, and the
    platform checks at submission say so if that does not fit)."""
    keep = set(post_media)
    out: dict[str, Any] = {}
    for key, entry in (overrides or {}).items():
        if isinstance(entry, dict) and isinstance(entry.get("media"), list):
            chosen = [i for i in entry["media"] if i in keep]
            entry = {k: v for k, v in entry.items() if k != "media"}
            if chosen:
                entry["media"] = chosen
        out[key] = entry
    return out
