"""Whether a link belongs to a channel's platform, by the hosts its adapter declares
(``Capabilities.permalink_hosts``).

Used where a person types a link ("mark as published") and on the public transparency page,
which never shows a link that fails: a link there is the office vouching for it.
"""

from __future__ import annotations

from functools import cache

from adapters import AdapterUnavailable, get_adapter_class
from adapters.base import Capabilities, permalink_matches


@cache
def _caps(platform: str) -> Capabilities | None:
    try:
        return get_adapter_class(platform).caps
    except AdapterUnavailable:
        return None


def belongs_to(platform: str, url: str | None) -> bool:
    caps = _caps(platform)
    return caps is not None and permalink_matches(caps, url)


def hosts_of(platform: str) -> str:
    """The declared hosts, for an error message ("facebook.com, fb.com")."""
    caps = _caps(platform)
    return ", ".join(sorted(caps.permalink_hosts)) if caps else ""
