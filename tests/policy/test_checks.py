"""The pure policy checks (``publisher/services/policy.py``): each kind of rule, hard and soft,
and both sides of the near-duplicate threshold. No database: the checks take plain values."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from publisher.services import policy as P


def rule(kind: str, value: str = "", severity: str = P.HARD, reason: str = "",
         campaign: int | None = None, rid: int = 1) -> P.Rule:
    return P.Rule(rid, kind, severity, value, reason, campaign)


@pytest.mark.parametrize("severity", P.SEVERITIES)
def test_required_tag_of_a_campaign(severity):  # type: ignore[no-untyped-def]
    r = rule(P.REQUIRED_TAG, "#JagaBersama", severity, campaign=7)
    [v] = P.check(P.Draft("Vaksin gratis hari ini", campaign_id=7), [r])
    assert v.severity == severity and v.hard == (severity == P.HARD)
    assert "#JagaBersama" in v.message and "Aturan #1" in v.message
    assert v.field == "policy:1"
    assert P.check(P.Draft("Vaksin gratis #jagabersama", campaign_id=7), [r]) == []
    # another campaign's post, or none: the rule is not theirs
    assert P.check(P.Draft("Vaksin gratis", campaign_id=8), [r]) == []
    assert P.check(P.Draft("Vaksin gratis"), [r]) == []
    # a hashtag that only starts with the tag is not the tag
    assert P.check(P.Draft("#JagaBersamaSelalu", campaign_id=7), [r]) != []


def test_required_tag_in_every_channel_text():  # type: ignore[no-untyped-def]
    r = rule(P.REQUIRED_TAG, "@pemkot")
    draft = P.Draft("Halo @pemkot", overrides={"5": {"body": "Halo warga"}},
                    channels={5: "IG Dinsos"})
    assert P.check(draft, [r]) != []
    draft.overrides["5"]["body"] = "Halo warga @PEMKOT"
    assert P.check(draft, [r]) == []


@pytest.mark.parametrize("severity", P.SEVERITIES)
def test_banned_phrase_with_its_reason(severity):  # type: ignore[no-untyped-def]
    r = rule(P.BANNED_PHRASE, "pasti aman", severity, reason="Klaim kesehatan tanpa dasar")
    [v] = P.check(P.Draft("Obat ini PASTI  aman".replace("  ", " ")), [r])
    assert "Klaim kesehatan tanpa dasar" in v.message
    assert "without" not in v.message and "Reason: Klaim" in v.message.en
    assert P.check(P.Draft("Obat ini pastinya aman"), [r]) == []  # a whole word, not a part
    assert P.check(P.Draft("aman", overrides={"1": {"title": "Pasti aman"}}), [r]) != []


@pytest.mark.parametrize("severity", P.SEVERITIES)
def test_alt_text_on_images(severity):  # type: ignore[no-untyped-def]
    r = rule(P.ALT_TEXT, severity=severity)
    media = [P.MediaItem("image", "poster.png", ""), P.MediaItem("video", "clip.mp4", "")]
    [v] = P.check(P.Draft("x", media=media), [r])
    assert "poster.png" in v.message and "clip.mp4" not in v.message
    media[0] = P.MediaItem("image", "poster.png", "Poster vaksinasi di balai kota")
    assert P.check(P.Draft("x", media=media), [r]) == []
    assert P.check(P.Draft("x", media=[P.MediaItem("image", "a.png", "   ")]), [r]) != []


@pytest.mark.parametrize("severity", P.SEVERITIES)
def test_link_domains(severity):  # type: ignore[no-untyped-def]
    r = rule(P.LINK_DOMAINS, "go.id, kemkes.go.id", severity)
    ok = P.Draft("Info: https://dinsos.jakarta.go.id/bansos dan www.kemkes.go.id.")
    assert P.check(ok, [r]) == []
    [v] = P.check(P.Draft("Daftar di https://bit.ly/xyz, info https://go.id.evil.com/a"), [r])
    assert "bit.ly" in v.message and "go.id.evil.com" in v.message
    # the link field counts too, and a host that only ends like an allowed one is not it
    assert P.check(P.Draft("x", link="https://notgo.id/a"), [r]) != []


@pytest.mark.parametrize("severity", P.SEVERITIES)
def test_daily_limit_per_channel(severity):  # type: ignore[no-untyped-def]
    r = rule(P.DAILY_LIMIT, "2", severity)
    draft = P.Draft("x", channels={1: "FB Dinsos", 2: "IG Dinsos"}, day=date(2026, 6, 10))
    assert P.check(draft, [r], P.Context(channel_counts={1: 1})) == []
    [v] = P.check(draft, [r], P.Context(channel_counts={1: 2, 2: 1}))
    assert "FB Dinsos" in v.message and "10 Juni 2026" in v.message and "IG" not in v.message
    assert "10 June 2026" in v.message.en


T = datetime(2026, 6, 10, 9, 0)
BASE = "Pendaftaran bantuan sosial tahap dua dibuka mulai Senin di kantor kelurahan."


@pytest.mark.parametrize("severity", P.SEVERITIES)
def test_near_duplicate_names_the_unit_and_time_only(severity):  # type: ignore[no-untyped-def]
    r = rule(P.NEAR_DUPLICATE, "90", severity)
    other = P.OtherPost("Dinas Kesehatan", datetime(2026, 6, 10, 14, 5), "WIB",
                        BASE.replace("Senin", "Selasa") + " https://rahasia.example/x")
    [v] = P.check(P.Draft(BASE), [r], P.Context(others=[other]))
    assert "Dinas Kesehatan" in v.message and "10 Juni 2026 14.05 WIB" in v.message
    assert "10 June 2026 14:05 WIB" in v.message.en
    for leak in ("Selasa", "rahasia", "kelurahan", "https"):
        assert leak not in v.message and leak not in v.message.en


def test_near_duplicate_threshold_both_sides():  # type: ignore[no-untyped-def]
    other_text = BASE.replace("Senin", "Kamis")
    score = P.similarity(BASE, other_text)
    assert 80 < score < 100
    others = P.Context(others=[P.OtherPost("Bappeda", T, "WIB", other_text)])
    at = rule(P.NEAR_DUPLICATE, str(int(score)))          # at or under the score: flagged
    above = rule(P.NEAR_DUPLICATE, str(int(score) + 1))   # over it: not
    assert len(P.check(P.Draft(BASE), [at], others)) == 1
    assert P.check(P.Draft(BASE), [above], others) == []
    # case and spacing do not make a text different
    same = P.Context(others=[P.OtherPost("Bappeda", T, "WIB", "  " + BASE.upper())])
    assert len(P.check(P.Draft(BASE), [rule(P.NEAR_DUPLICATE, "100")], same)) == 1


def test_rules_in_order_and_inactive_kinds_ignored():  # type: ignore[no-untyped-def]
    rules = [rule(P.BANNED_PHRASE, "hoaks", rid=2), rule(P.REQUIRED_TAG, "#A", rid=3),
             rule("unknown_kind", "x", rid=4)]
    assert [v.rule_id for v in P.check(P.Draft("ini hoaks"), rules)] == [2, 3]


def test_near_duplicate_shortcuts_keep_the_verdicts_of_normal_texts() -> None:
    """The length prefilter and the 5,000-character cut change no verdict for posts of a
    normal length, on either side of the threshold (incl. a pair exactly at it)."""
    import random

    from rapidfuzz import fuzz

    from publisher.services.policy import could_reach, near_same, normalise
    rnd = random.Random(7)
    words = "bantuan sosial tahap dua dibuka mulai senin kantor kelurahan warga".split()
    seen = {True: 0, False: 0}
    for _ in range(400):
        a = " ".join(rnd.choice(words) for _ in range(rnd.randint(5, 300)))
        cut = rnd.randint(0, len(a))
        b = a[:cut] + " ".join(rnd.choice(words) for _ in range(rnd.randint(0, 40)))
        a, b = normalise(a), normalise(b)
        for threshold in (50, 80, 90, 100):
            expected = fuzz.ratio(a, b) >= threshold
            assert near_same(a, b, threshold) == expected, (a, b, threshold)
            seen[expected] += 1
    assert seen[True] > 100 and seen[False] > 100
    # exactly at the threshold: 9 characters inside 11 is ratio 200*9/20 = 90
    assert near_same("abcdefghi", "abcdefghijk", 90)
    assert not near_same("abcdefghi", "abcdefghijk", 91)
    assert could_reach(9, 11, 90) and not could_reach(9, 11, 91) and not could_reach(0, 0, 50)
    # two long texts that differ only after the cut count as the same
    head = normalise("x " * 2510)  # 5,019 characters, past the cut
    assert near_same(head + "1" * 6000, head + "2" * 6000, 90)
