"""Managing the policy rules (admins only): create, change, delete, each audited.

A rule's value is checked here for its kind, so a typo ("10x" as a daily limit, "#" alone as
a hashtag) is a field message at once, not a rule that silently never matches.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.core import Core
from publisher.models import Campaign, Role, User
from publisher.models.policy import PolicyRule
from publisher.services import audit
from publisher.services import policy as P
from publisher.services.access import require_role
from publisher.services.errors import Invalid, NotFound, Text
from publisher.services.query_args import MAX_ID, small_int

MAX_RULES = 500
_TAG = re.compile(r"^[#@][\w.]{1,99}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def list_rules(session: Session) -> list[PolicyRule]:
    return list(session.execute(select(PolicyRule).order_by(PolicyRule.id)
                                .limit(MAX_RULES)).scalars())


def _clean(session: Session, kind: str, severity: str, value: str, reason: str,
           campaign_id: int | None) -> tuple[str, str, int | None]:
    errors: dict[str, str] = {}
    value, reason = (value or "").strip(), (reason or "").strip()
    if kind not in P.KINDS:
        errors["kind"] = Text("Pilih jenis aturan.", "Choose the kind of rule.")
    if severity not in P.SEVERITIES:
        errors["severity"] = Text("Pilih wajib atau anjuran.", "Choose hard or soft.")
    if campaign_id is not None and (not 0 < campaign_id <= MAX_ID
                                    or session.get(Campaign, campaign_id) is None):
        errors["campaign"] = Text(f"Kampanye #{campaign_id} tidak ditemukan.",
                                  f"Campaign #{campaign_id} not found.")
    if len(reason) > 1000:
        errors["reason"] = Text("Alasan paling banyak 1000 karakter.",
                                "A reason holds at most 1000 characters.")
    if kind == P.REQUIRED_TAG and not _TAG.match(value):
        errors["value"] = Text("Tulis satu tagar (#JagaJakarta) atau sebutan (@pemkot).",
                               "Write one hashtag (#JagaJakarta) or mention (@cityhall).")
    elif kind == P.BANNED_PHRASE:
        if not value or len(value) > 200:
            errors["value"] = Text("Tulis kata atau frasa yang dilarang (paling banyak 200 "
                                   "karakter).", "Write the banned word or phrase (at most "
                                   "200 characters).")
        if not reason:
            errors["reason"] = Text("Tulis alasannya: penulis akan membacanya.",
                                    "Write the reason: authors will read it.")
    elif kind == P.LINK_DOMAINS:
        domains = P.domains_of(value)
        bad = [d for d in domains if not _DOMAIN.match(d)]
        if not domains or bad:
            errors["value"] = Text(
                "Tulis domain yang diizinkan, dipisah koma (contoh: go.id, kemkes.go.id)"
                + (f"; bukan domain: {', '.join(bad)}" if bad else "") + ".",
                "Write the allowed domains, separated by commas (e.g. go.id, kemkes.go.id)"
                + (f"; not a domain: {', '.join(bad)}" if bad else "") + ".")
        value = ", ".join(domains)
    elif kind == P.DAILY_LIMIT:
        if not 1 <= (small_int(value) or 0) <= 100:
            errors["value"] = Text("Tulis jumlah unggahan per akun per hari (1-100).",
                                   "Write the number of posts per channel per day (1-100).")
    elif kind == P.NEAR_DUPLICATE:
        value = value or str(P.DEFAULT_SIMILARITY)
        if not 50 <= (small_int(value) or 0) <= 100:
            errors["value"] = Text("Tulis kemiripan dalam persen (50-100; 100 = sama persis).",
                                   "Write the similarity in percent (50-100; 100 = identical).")
    elif kind == P.ALT_TEXT:
        value = ""
    if errors:
        raise Invalid("Periksa kembali isian aturan.", "Please check the rule's fields.",
                      fields=errors)
    return value, reason, campaign_id


def create_rule(core: Core, session: Session, actor: User, *, kind: str, severity: str,
                value: str = "", reason: str = "", campaign_id: int | None = None) -> PolicyRule:
    require_role(actor, Role.ADMIN)
    value, reason, campaign_id = _clean(session, kind, severity, value, reason, campaign_id)
    now = core.now()
    rule = PolicyRule(kind=kind, severity=severity, value=value, reason=reason,
                      campaign_id=campaign_id, active=True, created_by=actor.id,
                      created_at=now, updated_at=now)
    session.add(rule)
    session.flush()
    audit.record(session, "policy.create", "policy_rule", rule.id, actor=actor,
                 data=_snapshot(rule))
    return rule


def _get(session: Session, rule_id: int) -> PolicyRule:
    rule = session.get(PolicyRule, rule_id) if 0 < rule_id <= MAX_ID else None
    if rule is None:
        raise NotFound(f"Aturan #{rule_id} tidak ditemukan.", f"Rule #{rule_id} not found.")
    return rule


def _snapshot(rule: PolicyRule) -> dict[str, object]:
    return {"kind": rule.kind, "severity": rule.severity, "value": rule.value,
            "reason": rule.reason, "campaign": rule.campaign_id, "active": rule.active}


def update_rule(core: Core, session: Session, actor: User, rule_id: int, *, severity: str,
                value: str, reason: str, campaign_id: int | None, active: bool) -> PolicyRule:
    require_role(actor, Role.ADMIN)
    rule = _get(session, rule_id)
    before = _snapshot(rule)
    value, reason, campaign_id = _clean(session, rule.kind, severity, value, reason,
                                        campaign_id)
    rule.severity, rule.value, rule.reason = severity, value, reason
    rule.campaign_id, rule.active = campaign_id, active
    rule.updated_at = core.now()
    audit.record(session, "policy.update", "policy_rule", rule.id, actor=actor,
                 data={"before": before, "after": _snapshot(rule)})
    return rule


def delete_rule(core: Core, session: Session, actor: User, rule_id: int) -> None:
    """Acknowledgements keep their words (their rule id becomes empty)."""
    require_role(actor, Role.ADMIN)
    rule = _get(session, rule_id)
    audit.record(session, "policy.delete", "policy_rule", rule.id, actor=actor,
                 data=_snapshot(rule))
    session.delete(rule)
