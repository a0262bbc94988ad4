"""The worker's backstop for emergency broadcasts.

An emergency post skips unit approval and freeze windows, so the worker does not take the
post's own approval hash as enough: it recomputes the emergency's hash from exactly what it is
about to send (text, link, media, the chosen units) and requires it to equal the hash the
second admin confirmed. A post edited after confirmation — by a bug, an API client or a
direct database edit, even one that also rewrote the post's approval hash — fails instead of
going out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from publisher.models import EmergencyStatus
from publisher.services.emergency import emergency_hash

if TYPE_CHECKING:
    from publisher.worker.snapshot import PubSnapshot


def confirmed_content(snap: PubSnapshot) -> bool:
    """Whether an emergency publication is confirmed and still carries the confirmed content
    (no per-channel overrides: an emergency sends one text everywhere)."""
    if snap.emergency_status != EmergencyStatus.CONFIRMED or not snap.emergency_hash:
        return False
    if snap.overrides:
        return False
    current = emergency_hash(body=snap.body, link=snap.link,
                             media_hashes=[m.sha256 for m in snap.media],
                             unit_ids=snap.emergency_units)
    return current == snap.emergency_hash
