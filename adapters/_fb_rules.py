"""The Facebook Page post types (``fb_type``: feed, reel, story) and the rules checked before
any upload, from what Warta measured of the file (width, height and duration read from the real
video container by the core, never from the file name).

Reels (platform-apis.md §1.2, Meta's Reels Publishing API): one video, 3–90 s, 9:16, at least
540 × 960. Page Stories (platform-apis-2.md §4.3): one photo or one video; a photo ≤ 4 MB (the
English page says 10 MB, the Indonesian, Arabic and Korean copies 4 MB: the smaller is kept);
a video 9:16, at least 540 × 960, 3–60 s ("a reel published as a story can not exceed 60
seconds"). A Story carries no text through the API, so the post's text is not sent.
"""

from __future__ import annotations

from adapters.base import MediaFile, OutgoingPost, Problem

FB_TYPES = ("feed", "reel", "story")
REEL_SECONDS = (3.0, 90.0)
STORY_VIDEO_SECONDS = (3.0, 60.0)
STORY_PHOTO_BYTES = 4_000_000
#: 9:16, with 2 % slack for encoders that round an odd dimension (1080 × 1918 …).
VERTICAL = 9 / 16
ASPECT_SLACK = 0.02
MIN_SIZE = (540, 960)


def fb_type(post: OutgoingPost) -> str:
    return str(post.options.get("fb_type") or "feed")


def type_problems(post: OutgoingPost) -> list[Problem]:
    """Why this post cannot go out as its chosen Facebook type (empty: it can)."""
    kind = fb_type(post)
    if kind not in FB_TYPES:
        return [Problem("options", "bad_fb_type",
                        "Jenis unggahan Facebook harus 'feed', 'reel' atau 'story'.",
                        "The Facebook post type must be 'feed', 'reel' or 'story'.")]
    if kind == "reel":
        if len(post.media) != 1 or post.media[0].kind != "video":
            return [Problem("media", "reel_needs_one_video",
                            "Reel Facebook memerlukan tepat satu video.",
                            "A Facebook reel needs exactly one video.")]
        return _video_problems(post.media[0], "Reel Facebook", "A Facebook reel", REEL_SECONDS)
    if kind == "story":
        if len(post.media) != 1:
            return [Problem("media", "story_needs_one_media",
                            "Story Facebook memerlukan tepat satu foto atau satu video.",
                            "A Facebook story needs exactly one photo or one video.")]
        m = post.media[0]
        if m.kind == "image":
            if m.size > STORY_PHOTO_BYTES:
                return [Problem(
                    "media", "story_too_large",
                    f"Foto terlalu besar untuk Story Facebook ({m.size / 1_000_000:.1f} MB, "
                    "maks 4 MB).",
                    f"Photo too large for a Facebook story ({m.size / 1_000_000:.1f} MB, "
                    "max 4 MB).")]
            return []
        return _video_problems(m, "Video Story Facebook", "A Facebook story video",
                               STORY_VIDEO_SECONDS)
    return []


def _video_problems(m: MediaFile, name_id: str, name_en: str,
                    seconds: tuple[float, float]) -> list[Problem]:
    problems = []
    lo, hi = seconds
    if m.duration is None:
        problems.append(Problem(
            "media", "video_duration_unknown",
            f"Durasi video tidak terbaca, padahal {name_id} harus {lo:.0f} sampai {hi:.0f} "
            "detik. Unggah ulang videonya (MP4).",
            f"The video's duration could not be read, and {name_en} must last {lo:.0f} to "
            f"{hi:.0f} seconds. Upload the video again (MP4)."))
    elif not lo <= m.duration <= hi:
        problems.append(Problem(
            "media", "video_duration",
            f"{name_id} harus berdurasi {lo:.0f} sampai {hi:.0f} detik (sekarang "
            f"{m.duration:.0f} detik).",
            f"{name_en} must last {lo:.0f} to {hi:.0f} seconds (this one: {m.duration:.0f} s)."))
    if not m.width or not m.height:
        problems.append(Problem(
            "media", "video_size_unknown",
            f"Ukuran video tidak terbaca; {name_id} harus tegak 9:16. Unggah ulang videonya.",
            f"The video's size could not be read; {name_en} must be vertical 9:16. Upload the "
            "video again."))
        return problems
    if abs(m.width / m.height - VERTICAL) > VERTICAL * ASPECT_SLACK:
        problems.append(Problem(
            "media", "video_aspect",
            f"{name_id} harus tegak dengan rasio 9:16 (misalnya 1080 × 1920); video ini "
            f"{m.width} × {m.height}.",
            f"{name_en} must be vertical 9:16 (for example 1080 × 1920); this video is "
            f"{m.width} × {m.height}."))
    elif m.width < MIN_SIZE[0] or m.height < MIN_SIZE[1]:
        problems.append(Problem(
            "media", "video_too_small",
            f"Video terlalu kecil untuk {name_id} ({m.width} × {m.height}; minimal 540 × 960).",
            f"The video is too small for {name_en} ({m.width} × {m.height}; at least "
            "540 × 960)."))
    return problems
