"""Policy checks: the region's and campaigns' rules, applied to a draft as plain values.

Pure: no database, no Flask, no clock. ``policy_gate`` gathers what a check needs (the rules,
the day's counts per channel, the day's texts of other units) with bounded queries and calls
``check``; the composer's live panel, submit and approval all go through it, so they can never
disagree about what a rule says.

A near-duplicate names the other unit and the time only: a unit never sees another unit's
text or a link to its post.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import urlsplit

from rapidfuzz import fuzz

from publisher.services.errors import Text

REQUIRED_TAG = "required_tag"
BANNED_PHRASE = "banned_phrase"
ALT_TEXT = "alt_text"
LINK_DOMAINS = "link_domains"
DAILY_LIMIT = "daily_limit"
NEAR_DUPLICATE = "near_duplicate"
#: Every kind, in the order the admin page offers them.
KINDS = (REQUIRED_TAG, BANNED_PHRASE, ALT_TEXT, LINK_DOMAINS, DAILY_LIMIT, NEAR_DUPLICATE)
KIND_NAMES = {
    REQUIRED_TAG: ("tagar/sebutan wajib", "required hashtag/mention"),
    BANNED_PHRASE: ("kata terlarang", "banned phrase"),
    ALT_TEXT: ("teks alternatif gambar", "image alt text"),
    LINK_DOMAINS: ("domain tautan", "link domains"),
    DAILY_LIMIT: ("batas unggahan harian", "daily post limit"),
    NEAR_DUPLICATE: ("teks kembar antarunit", "near-duplicate across units"),
}
HARD, SOFT = "hard", "soft"
SEVERITIES = (HARD, SOFT)
#: The similarity (0-100, rapidfuzz's ``fuzz.ratio``) from which two texts count as nearly
#: the same when the rule gives none.
DEFAULT_SIMILARITY = 90

_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""


@dataclass(frozen=True)
class Rule:
    id: int
    kind: str
    severity: str
    value: str
    reason: str = ""
    campaign_id: int | None = None


@dataclass(frozen=True)
class MediaItem:
    kind: str
    name: str
    alt_text: str = ""


@dataclass(frozen=True)
class OtherPost:
    """A post of another unit on the same day: only what a message may say about it."""

    unit_name: str
    #: Its time in the checking unit's zone, with the zone's name ("WIB").
    when: datetime
    zone_name: str
    body: str


@dataclass
class Draft:
    """What the checks read of a post (saved or still in the composer)."""

    body: str
    overrides: dict[str, dict] = field(default_factory=dict)
    link: str | None = None
    campaign_id: int | None = None
    media: Sequence[MediaItem] = ()
    #: Channel name per chosen channel id.
    channels: dict[int, str] = field(default_factory=dict)
    #: The local day the post goes out on (daily limits count it).
    day: date | None = None


@dataclass
class Context:
    """What ``policy_gate`` counted in the database for the draft's day."""

    #: Posts already on each chosen channel that day (this post not counted).
    channel_counts: dict[int, int] = field(default_factory=dict)
    others: Sequence[OtherPost] = ()


@dataclass(frozen=True)
class Violation:
    rule_id: int
    kind: str
    severity: str
    message: Text

    @property
    def field(self) -> str:
        return f"policy:{self.rule_id}"

    @property
    def hard(self) -> bool:
        return self.severity == HARD


def applies(rule: Rule, campaign_id: int | None) -> bool:
    """A region-wide rule applies to every post, a campaign's only to that campaign's."""
    return rule.campaign_id is None or rule.campaign_id == campaign_id


def texts_of(draft: Draft) -> list[str]:
    """Every text that goes out: the main body and each chosen channel's own text."""
    own = [str(o.get("body") or "") for cid, o in draft.overrides.items()
           if (not draft.channels or _int(cid) in draft.channels) and o.get("body")]
    return [draft.body, *own]


def _titles(draft: Draft) -> list[str]:
    return [str(o.get("title")) for o in draft.overrides.values() if o.get("title")]


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _word(phrase: str) -> re.Pattern[str]:
    """The phrase as a whole word or words, any case: "hoaks" is not found in "hoaksnya"."""
    return re.compile(r"(?<!\w)" + re.escape(phrase.strip()) + r"(?!\w)", re.IGNORECASE)


def normalise(text: str) -> str:
    """A text as the near-duplicate check compares it: links, case and spacing set aside
    (the same message with each unit's own link is still the same message)."""
    return " ".join(_URL.sub(" ", text).casefold().split())


def similarity(a: str, b: str) -> float:
    """How alike two texts are, 0-100, after case and spacing are set aside."""
    return float(fuzz.ratio(normalise(a), normalise(b)))


def domains_of(value: str) -> list[str]:
    """An allowed-domains rule's list: separated by commas, spaces or lines, lowercased."""
    return [d.strip().lower().lstrip(".") for d in re.split(r"[\s,;]+", value) if d.strip()]


def hosts_in(texts: Iterable[str]) -> list[str]:
    """The hosts of every link in the texts (``www.`` links without a scheme too)."""
    hosts: list[str] = []
    for text in texts:
        for raw in _URL.findall(text or ""):
            url = raw.rstrip(_TRAILING)
            if not url.lower().startswith(("http://", "https://")):
                url = "http://" + url
            host = (urlsplit(url).hostname or "").lower().rstrip(".")
            if host and host not in hosts:
                hosts.append(host)
    return hosts


def host_allowed(host: str, allowed: Sequence[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in allowed)


def rule_label(rule: Rule) -> Text:
    """How a message names its rule: "Aturan #3 (kata terlarang, wajib)"."""
    kid, ken = KIND_NAMES.get(rule.kind, (rule.kind, rule.kind))
    sid, sen = ("wajib", "hard") if rule.severity == HARD else ("anjuran", "soft")
    return Text(f"Aturan #{rule.id} ({kid}, {sid})", f"Rule #{rule.id} ({ken}, {sen})")


def _because(rule: Rule) -> tuple[str, str]:
    if not rule.reason.strip():
        return "", ""
    return f" Alasan: {rule.reason.strip()}", f" Reason: {rule.reason.strip()}"


def _violation(rule: Rule, id_text: str, en_text: str) -> Violation:
    label = rule_label(rule)
    rid, ren = _because(rule)
    return Violation(rule.id, rule.kind, rule.severity,
                     Text(f"{label}: {id_text}{rid}", f"{label.en}: {en_text}{ren}"))


def check(draft: Draft, rules: Iterable[Rule], context: Context | None = None) -> list[Violation]:
    """Every violation of the rules that apply to the draft, in the rules' order."""
    ctx = context or Context()
    out: list[Violation] = []
    for rule in rules:
        if applies(rule, draft.campaign_id):
            out += _CHECKS[rule.kind](rule, draft, ctx) if rule.kind in _CHECKS else []
    return out


def _required_tag(rule: Rule, draft: Draft, ctx: Context) -> list[Violation]:
    tag = rule.value.strip()
    if not tag:
        return []
    pattern = _word(tag)
    if all(pattern.search(t) for t in texts_of(draft)):
        return []
    return [_violation(rule, f"setiap teks wajib memuat {tag}.",
                       f"every text must include {tag}.")]


def _banned_phrase(rule: Rule, draft: Draft, ctx: Context) -> list[Violation]:
    phrase = rule.value.strip()
    if not phrase:
        return []
    pattern = _word(phrase)
    if not any(pattern.search(t) for t in [*texts_of(draft), *_titles(draft)]):
        return []
    return [_violation(rule, f"\u201c{phrase}\u201d tidak boleh dipakai.",
                       f"\u201c{phrase}\u201d must not be used.")]


def _alt_text(rule: Rule, draft: Draft, ctx: Context) -> list[Violation]:
    missing = [m.name for m in draft.media if m.kind == "image" and not m.alt_text.strip()]
    if not missing:
        return []
    names = ", ".join(missing)
    return [_violation(rule, f"gambar tanpa teks alternatif: {names}.",
                       f"images without alt text: {names}.")]


def _link_domains(rule: Rule, draft: Draft, ctx: Context) -> list[Violation]:
    allowed = domains_of(rule.value)
    bad = [h for h in hosts_in([*texts_of(draft), draft.link or ""])
           if not host_allowed(h, allowed)]
    if not bad:
        return []
    hosts, ok = ", ".join(bad), ", ".join(allowed) or "-"
    return [_violation(rule, f"tautan ke {hosts} tidak diizinkan (yang diizinkan: {ok}).",
                       f"links to {hosts} are not allowed (allowed: {ok}).")]


def _daily_limit(rule: Rule, draft: Draft, ctx: Context) -> list[Violation]:
    limit = _int(rule.value.strip())
    if limit is None:
        return []
    out = []
    day_id, day_en = day_labels(draft.day)
    for cid, name in draft.channels.items():
        already = ctx.channel_counts.get(cid, 0)
        if already + 1 > limit:
            out.append(_violation(
                rule, f"akun '{name}' sudah punya {already} unggahan pada {day_id}; "
                      f"batasnya {limit} sehari.",
                f"channel '{name}' already has {already} post(s) on {day_en}; the "
                f"limit is {limit} a day."))
    return out


#: How much of each text the near-duplicate check compares: a post's opening is what makes
#: two units' announcements "the same"; all of two 63k-character bodies took ~0.07 s a pair,
#: up to half a minute for a live-panel request against a busy day's 500 posts.
COMPARE_CHARS = 5000


def could_reach(len_a: int, len_b: int, threshold: float) -> bool:
    """Whether two texts of these lengths can score ``threshold`` in ``fuzz.ratio``: its best
    is 200·min/(a+b) (the shorter one wholly inside the longer), so a pair whose lengths
    differ more is skipped unscored without changing any verdict."""
    return len_a + len_b > 0 and 200 * min(len_a, len_b) >= threshold * (len_a + len_b)


def near_same(body: str, other: str, threshold: float) -> bool:
    """``body`` and ``other`` (both already ``normalise``d) score at least ``threshold`` on
    their first ``COMPARE_CHARS`` characters."""
    a, b = body[:COMPARE_CHARS], other[:COMPARE_CHARS]
    if not could_reach(len(a), len(b), threshold):
        return False
    return bool(fuzz.ratio(a, b, score_cutoff=threshold))


def _near_duplicate(rule: Rule, draft: Draft, ctx: Context) -> list[Violation]:
    threshold = _int(rule.value.strip()) or DEFAULT_SIMILARITY
    body = normalise(draft.body)
    if not body:
        return []
    out = []
    for other in ctx.others:
        if near_same(body, normalise(other.body), threshold):
            day_id, day_en = day_labels(other.when.date())
            at = f"{other.when:%H}.{other.when:%M} {other.zone_name}"
            at_en = f"{other.when:%H}:{other.when:%M} {other.zone_name}"
            out.append(_violation(
                rule, f"{other.unit_name} menjadwalkan teks yang hampir sama ({day_id} {at}).",
                f"{other.unit_name} scheduled nearly the same text ({day_en} {at_en})."))
    return out


_CHECKS = {REQUIRED_TAG: _required_tag, BANNED_PHRASE: _banned_phrase, ALT_TEXT: _alt_text,
           LINK_DOMAINS: _link_domains, DAILY_LIMIT: _daily_limit,
           NEAR_DUPLICATE: _near_duplicate}


_MONTHS_ID = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
              "September", "Oktober", "November", "Desember")
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")


def day_labels(day: date | None) -> tuple[str, str]:
    """A day as the messages say it, in both languages ("10 Juni 2026", "10 June 2026"),
    without the machine's locale."""
    if day is None:
        return "hari itu", "that day"
    return (f"{day.day} {_MONTHS_ID[day.month - 1]} {day.year}",
            f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}")
