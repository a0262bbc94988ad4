"""The Meta container flow shared by Instagram (Graph) and Threads: create → poll → publish.

Both platforms publish the same way (platform-apis.md §2.2 and §7.2, platform-apis-2.md §3.3):
create a container (children first for a carousel), wait until its status is ``FINISHED``,
then make the ONE irreversible call (``media_publish`` / ``threads_publish``) and read the
permalink. Both meter publishing with a rolling 24-hour quota read from an endpoint shaped
``{"data": [{"quota_usage", "config": {"quota_total", "quota_duration"}}]}``. What differs is
data: edge and field names and the words the operator reads, held in a ``ContainerApi``.
Nothing here sleeps; ``poll`` makes one status read (and, when ready, the publish call).
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from adapters._graph import GraphClient
from adapters.base import Pending, Published
from adapters.errors import AdapterError, OutcomeUnknown, Rejected, RetryLater, StartOver


@dataclass(frozen=True)
class ContainerApi:
    """One platform's names: ``media``/``media_publish``/``content_publishing_limit`` and
    ``status_code``/``status`` for Instagram; ``threads``/``threads_publish``/
    ``threads_publishing_limit`` and ``status``/``error_message`` for Threads."""

    platform: str
    label: str  # "Instagram", "Threads": for the operator's messages
    create_edge: str
    publish_edge: str
    limit_edge: str
    status_field: str
    error_field: str


class ContainerFlow:
    """The flow for one account: ``create``, ``pending``, ``poll`` and the quota check."""

    def __init__(self, api: ContainerApi, graph: GraphClient, user_id: str, *,
                 poll_seconds: float, max_polls: int, quota_wait: float,
                 state: MutableMapping[str, Any], now: Callable[[], datetime]) -> None:
        self.api, self.graph, self.user_id = api, graph, user_id
        self.poll_seconds, self.max_polls, self.quota_wait = poll_seconds, max_polls, quota_wait
        self.state, self.now = state, now

    # -- containers -------------------------------------------------------------------------
    def create(self, data: dict[str, str]) -> str:
        """Create one container. Not irreversible (nothing is public), so failures retry."""
        result = self.graph.call("POST", f"{self.user_id}/{self.api.create_edge}", data=data)
        if not isinstance(result, dict) or not result.get("id"):
            raise RetryLater(self.api.platform,
                             f"{self.api.label} tidak memberi ID kontainer; dicoba lagi.",
                             f"{self.api.label} gave no container id; retrying.", code="no_id",
                             detail=str(result))
        return str(result["id"])

    def create_parent(self, state: dict[str, Any], caption_field: str,
                      extra: dict[str, str] | None = None) -> dict[str, Any]:
        data = {"media_type": "CAROUSEL", "children": ",".join(state["children"]),
                **(extra or {})}
        if state.get("caption") is not None:
            data[caption_field] = state["caption"]
        return {"stage": "container", "container": self.create(data)}

    def pending(self, state: dict[str, Any], polls: int = 0) -> Pending:
        return Pending({**state, "polls": polls}, poll_after=self.poll_seconds)

    def poll(self, pending: Pending, parent: Callable[[dict[str, Any]], dict[str, Any]]
             ) -> Published | Pending:
        """One status read; when the container is ready, the publish call. ``parent`` makes
        the carousel's parent container once every child is ``FINISHED``."""
        api = self.api
        state = dict(pending.state)
        polls = int(state.get("polls", 0)) + 1
        if polls > self.max_polls:
            raise StartOver(api.platform,
                            f"{api.label} terlalu lama memproses media; unggahan diulang "
                            "otomatis.", f"{api.label} took too long processing the media; "
                            "the post will be sent again automatically.",
                            code="processing_timeout")
        fields = f"{api.status_field},{api.error_field}"
        if state.get("stage") == "children":
            result = self.graph.call("GET", "/", params={"ids": ",".join(state["children"]),
                                                         "fields": fields})
            statuses = [result.get(c, {}) for c in state["children"]]
            for st in statuses:
                self.check_status(st, published_means_unknown=False)
            if all(st.get(api.status_field) == "FINISHED" for st in statuses):
                return self.pending(parent(state), polls)
            return self.pending(state, polls)
        cid = str(state["container"])
        status = self.graph.call("GET", cid, params={"fields": fields})
        self.check_status(status, published_means_unknown=True)
        if status.get(api.status_field) != "FINISHED":
            return self.pending(state, polls)
        try:
            result = self.graph.call("POST", f"{self.user_id}/{api.publish_edge}",
                                     data={"creation_id": cid}, after_create=True)
        except RetryLater as exc:
            if exc.code == "not_ready":
                return self.pending(state, polls)
            raise
        media_id = str(result.get("id") or "")
        if not media_id:
            raise OutcomeUnknown(api.platform, f"{api.label} menjawab tanpa ID media.",
                                 f"{api.label} answered without a media id.", code="no_id",
                                 detail=str(result))
        self.record_publish()
        permalink = None
        try:  # best effort: the post IS published, a failed read must not make us retry
            permalink = self.graph.call("GET", media_id,
                                        params={"fields": "permalink"}).get("permalink")
        except AdapterError:
            pass
        return Published(media_id, permalink, self.now(),
                         metrics_schedule=str(state.get("metrics_schedule") or "default"))

    def check_status(self, st: dict[str, Any], *, published_means_unknown: bool) -> None:
        api = self.api
        code = st.get(api.status_field)
        detail = str(st)
        if code == "ERROR":
            reason = str(st.get(api.error_field) or "-")
            raise Rejected(api.platform,
                           f"{api.label} gagal memproses media ({reason}). Periksa format, "
                           "ukuran dan rasio berkas.",
                           f"{api.label} failed to process the media ({reason}). Check the "
                           "file format, size and aspect ratio.",
                           code="processing_failed", detail=detail)
        if code == "EXPIRED":
            raise StartOver(api.platform,
                            f"Kontainer {api.label} kedaluwarsa; unggahan diulang otomatis.",
                            f"The {api.label} container expired; the post will be sent again.",
                            code="container_expired", detail=detail)
        if code == "PUBLISHED" and published_means_unknown:
            raise OutcomeUnknown(api.platform,
                                 "Kontainer ini sudah diterbitkan sebelumnya; Warta memeriksa "
                                 "akun untuk menemukan tautannya.",
                                 "This container was already published; Warta checks the "
                                 "account to find its link.", code="already_published",
                                 detail=detail)

    # -- publishing quota -------------------------------------------------------------------
    def check_quota(self) -> None:
        """Refuse to start when the rolling 24-hour publishing quota is spent: the whole
        channel waits until the oldest of OUR posts in the window leaves it."""
        api = self.api
        result = self.graph.call("GET", f"{self.user_id}/{api.limit_edge}",
                                 params={"fields": "quota_usage,config"})
        try:
            entry = result["data"][0]
            used = int(entry["quota_usage"])
            total = int(entry["config"]["quota_total"])
            duration = float(entry["config"].get("quota_duration", 86400))
        except (KeyError, IndexError, TypeError, ValueError):
            return  # unreadable limit: let the publish call answer if it is full
        if used < total:
            return
        wait = self.quota_wait
        ours = sorted(self.recent_publishes(duration))
        if ours:
            wait = max(60.0, (ours[0] + timedelta(seconds=duration) - self.now())
                       .total_seconds())
        raise RetryLater(api.platform,
                         f"Kuota harian {api.label} ({used}/{total} unggahan per 24 jam) sudah "
                         "habis; penayangan dilanjutkan otomatis saat kuota kembali tersedia.",
                         f"The {api.label} daily quota ({used}/{total} posts per 24 hours) is "
                         "used up; publishing resumes automatically when it frees up.",
                         retry_after=wait, scope="channel", code="publishing_quota",
                         detail=str(result))

    def recent_publishes(self, duration: float = 86400) -> list[datetime]:
        cutoff = self.now() - timedelta(seconds=duration)
        times = [datetime.fromisoformat(t) for t in self.state.get("published_times", [])]
        return [t for t in times if t > cutoff]

    def record_publish(self) -> None:
        times = self.recent_publishes() + [self.now()]
        self.state["published_times"] = [t.isoformat() for t in times[-300:]]
