"""Instagram Stories through the Graph API: the rules checked before upload and the metrics.

A Story is one container with ``media_type=STORIES`` and an ``image_url`` or ``video_url``
(platform-apis-2.md §4.1). The rules are read from what Warta measured of the file (width,
height and duration from the real image / video container, not the file name): one media
item; image JPEG ≤ 8 MB; video 3–60 s, ≤ 100 MB (platform-apis.md §2.4). Meta documents no
separate aspect range for Stories; the Reel range (0.01:1 … 10:1, 9:16 recommended) is applied
to both kinds, and images are NOT padded to the feed's 4:5 … 1.91:1.

Story insights exist only 24 hours and are requested separately from feed metrics (other
names: ``replies`` instead of ``saved``); the worker reads them at +1 h and +23 h.
"""

from __future__ import annotations

from adapters.base import OutgoingPost, Problem

STORY_ASPECT = (0.01, 10.0)
STORY_VIDEO_BYTES = 100_000_000
STORY_SECONDS = (3.0, 60.0)
STORY_INSIGHTS = "views,reach,replies,shares"


def story_problems(post: OutgoingPost) -> list[Problem]:
    """Why this post cannot be an Instagram Story, in both languages (empty: it can)."""
    if len(post.media) != 1:
        return [Problem("media", "story_needs_one_media",
                        "Story Instagram memerlukan tepat satu foto atau satu video.",
                        "An Instagram story needs exactly one photo or one video.")]
    m = post.media[0]
    problems = []
    cap = STORY_VIDEO_BYTES  # images: the channel's own 8 MB check already applies
    if m.kind == "video" and m.size > cap:
        problems.append(Problem(
            "media", "story_too_large",
            f"Berkas terlalu besar untuk Story Instagram ({m.size // 1_000_000} MB, maks "
            f"{cap // 1_000_000} MB).",
            f"File too large for an Instagram story ({m.size // 1_000_000} MB, max "
            f"{cap // 1_000_000} MB)."))
    if m.kind == "video" and m.duration is not None and not (
            STORY_SECONDS[0] <= m.duration <= STORY_SECONDS[1]):
        problems.append(Problem(
            "media", "story_duration",
            f"Video Story Instagram harus 3 sampai 60 detik (sekarang {m.duration:.0f} detik).",
            f"An Instagram story video must last 3 to 60 seconds (this one: "
            f"{m.duration:.0f} s)."))
    if m.width and m.height:
        ratio = m.width / m.height
        if not STORY_ASPECT[0] <= ratio <= STORY_ASPECT[1]:
            problems.append(Problem(
                "media", "story_aspect",
                f"Rasio {m.width} × {m.height} tidak diterima untuk Story Instagram "
                "(0,01:1 sampai 10:1; disarankan 9:16).",
                f"{m.width} × {m.height} is not accepted for an Instagram story "
                "(0.01:1 to 10:1; 9:16 recommended)."))
    return problems
