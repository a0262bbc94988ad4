"""The account's own first comment on a post it just published (issue 21): create it, and
find it again after an unknown outcome (platform-apis-2.md §1.1, §1.2, §1.5).

Create calls are irreversible, so their 5xx, timeout or dropped answer is ``OutcomeUnknown``
(the worker then looks before anything else). A lookup matches the account's own comment
with the same text on that post only, so a citizen who copies the text is never taken for
ours; it raises when the platform cannot be asked (the worker then says "unconfirmed").

Graph: ``POST /{page-post-id | ig-media-id}/comments message=`` → ``{"id": ...}``; read back
with ``GET /{object}/comments`` and the author's ``from{id}``.
YouTube: ``commentThreads.insert`` (50 units) with ``videoId`` and the top-level comment's
``textOriginal``; read back with ``commentThreads.list?videoId=`` (1 unit a page, newest
first) and the author's ``authorChannelId``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from adapters._graph import GraphClient
from adapters.errors import OutcomeUnknown, RetryLater

#: Pages of a post's comments a lookup reads: a first comment is among the very first ones.
LOOKUP_PAGES = 3


def same_text(a: str, b: str) -> bool:
    """Platforms trim and normalise line ends; nothing else is forgiven."""
    return a.replace("\r\n", "\n").strip() == b.replace("\r\n", "\n").strip()


def graph_post(graph: GraphClient, object_id: str, text: str) -> str:
    """One comment by the token's account (the Page, or the Instagram account)."""
    result = graph.call("POST", f"{object_id}/comments", data={"message": text},
                        after_create=True)
    cid = result.get("id") if isinstance(result, dict) else None
    if not cid:
        raise OutcomeUnknown(graph.platform, "Meta tidak mengembalikan ID komentar.",
                             "Meta returned no comment id.", code="no_id", detail=str(result))
    return str(cid)


def graph_find(graph: GraphClient, object_id: str, text: str, own_id: str, *,
               instagram: bool) -> str | None:
    """The id of ``own_id``'s comment with ``text`` on the object, or None."""
    text_field = "text" if instagram else "message"
    params: dict[str, Any] = {"limit": 100, "fields": f"id,{text_field},from{{id}}"}
    if not instagram:
        params.update(filter="toplevel", order="chronological")
    for _ in range(LOOKUP_PAGES):
        body = graph.call("GET", f"{object_id}/comments", params=params)
        body = body if isinstance(body, dict) else {}
        for item in body.get("data") or []:
            if not isinstance(item, dict) or not item.get("id"):
                continue
            author: Mapping[str, Any] = (item["from"] if isinstance(item.get("from"), dict)
                                         else {})
            if str(author.get("id") or "") == own_id and same_text(
                    str(item.get(text_field) or ""), text):
                return str(item["id"])
        paging: Mapping[str, Any] = (body["paging"] if isinstance(body.get("paging"), dict)
                                     else {})
        after = (paging.get("cursors") or {}).get("after")
        if not paging.get("next") or not after:
            return None
        params["after"] = after
    return None


Call = Callable[..., Any]


def youtube_post(call: Call, api: str, video_id: str, text: str) -> str:
    """``call(method, url, **kw)`` is the adapter's own (quota counted, errors typed); its
    network failure is a ``RetryLater``, which after a create call means "unknown"."""
    try:
        resp = call("POST", f"{api}/commentThreads", stage="create", cost=50,
                    params={"part": "snippet"},
                    json={"snippet": {"videoId": video_id,
                                      "topLevelComment": {"snippet": {"textOriginal": text}}}})
    except RetryLater as exc:
        if exc.code != "network":
            raise
        raise OutcomeUnknown(exc.platform, "Koneksi ke YouTube terputus setelah komentar "
                             "dikirim; belum pasti sudah ada.", "The connection to YouTube "
                             "dropped after the comment was sent; it may or may not exist.",
                             code="timeout_after_send", detail=exc.detail) from None
    try:
        body = resp.json()
    except ValueError:
        body = None
    cid = body.get("id") if isinstance(body, dict) else None
    if not cid:
        raise OutcomeUnknown("youtube", "YouTube tidak mengembalikan ID komentar.",
                             "YouTube returned no comment id.", code="no_id")
    return str(cid)


def youtube_find(get: Callable[[dict[str, Any]], Mapping[str, Any]], video_id: str,
                 text: str, own_channel: str) -> str | None:
    """``get(params)`` reads one ``commentThreads`` page."""
    params: dict[str, Any] = {"part": "snippet", "videoId": video_id, "order": "time",
                              "maxResults": 100, "textFormat": "plainText"}
    for _ in range(LOOKUP_PAGES):
        body = get(params)
        for thread in body.get("items") or []:
            top = (thread.get("snippet") or {}).get("topLevelComment") or {}
            s = top.get("snippet") or {}
            author = (s.get("authorChannelId") or {}).get("value")
            if author == own_channel and same_text(str(s.get("textOriginal") or ""), text):
                return str(thread.get("id") or top.get("id"))
        if not body.get("nextPageToken"):
            return None
        params["pageToken"] = body["nextPageToken"]
    return None
