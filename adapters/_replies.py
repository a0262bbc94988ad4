"""Replies to citizens' comments and hiding them, as the office's account, on Facebook Pages,
Instagram Graph and YouTube (platform-apis-2.md §1.1, §1.2, §1.5). The adapters call these
with their own clients, so errors are classified where every other call of theirs is.

A reply is a platform post: the send is the irreversible call (``after_create``: a timeout or
a 5xx after it is ``OutcomeUnknown``, never a retry), and ``find_*`` reads the parent's
replies for the office's own one with the same text, which the worker does before any second
send. A lookup that fails raises; "not there" is ``None``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from adapters._graph import GraphClient

#: Replies read per lookup (one page of the newest is where a reply sent minutes ago is).
LOOKUP_LIMIT = 100


def same_text(a: str, b: str) -> bool:
    """Platforms trim the ends of a comment; nothing else is normalised."""
    return a.strip() == b.strip()


# -- Facebook -------------------------------------------------------------------------------
def facebook_reply(graph: GraphClient, comment_id: str, text: str) -> str:
    """``POST /{comment-id}/comments`` ``message=`` → ``{"id": ...}``; the author is the Page."""
    body = graph.call("POST", f"{comment_id}/comments", data={"message": text},
                      after_create=True)
    return _id_of(graph, body)


def facebook_find_reply(graph: GraphClient, comment_id: str, text: str,
                        page_id: str) -> str | None:
    """The Page's own reply under ``comment_id`` with ``text`` (newest first)."""
    body = graph.call("GET", f"{comment_id}/comments", params={
        "fields": "id,message,from{id}", "order": "reverse_chronological",
        "limit": LOOKUP_LIMIT})
    for item in _data(body):
        author: dict[str, Any] = item["from"] if isinstance(item.get("from"), dict) else {}
        if str(author.get("id")) == str(page_id) and same_text(str(item.get("message") or ""),
                                                               text):
            return str(item["id"])
    return None


def facebook_hide(graph: GraphClient, comment_id: str) -> None:
    """``POST /{comment-id}`` ``is_hidden=true`` (the commenter and their friends still see it)."""
    graph.call("POST", comment_id, data={"is_hidden": "true"})


# -- Instagram Graph ------------------------------------------------------------------------
def instagram_reply(graph: GraphClient, comment_id: str, text: str) -> str:
    """``POST /{ig-comment-id}/replies?message=`` → ``{"id": ...}``."""
    body = graph.call("POST", f"{comment_id}/replies", params={"message": text},
                      after_create=True)
    return _id_of(graph, body)


def instagram_find_reply(graph: GraphClient, comment_id: str, text: str,
                         ig_user_id: str) -> str | None:
    body = graph.call("GET", f"{comment_id}/replies", params={
        "fields": "id,text,from", "limit": LOOKUP_LIMIT})
    for item in _data(body):
        author: dict[str, Any] = item["from"] if isinstance(item.get("from"), dict) else {}
        if str(author.get("id")) == str(ig_user_id) and same_text(str(item.get("text") or ""),
                                                                  text):
            return str(item["id"])
    return None


def instagram_hide(graph: GraphClient, comment_id: str) -> None:
    """``POST /{ig-comment-id}?hide=true``."""
    graph.call("POST", comment_id, params={"hide": "true"})


# -- YouTube --------------------------------------------------------------------------------
Send = Callable[..., Mapping[str, Any]]


def youtube_find_reply(get: Callable[[str, dict[str, Any]], Mapping[str, Any]],
                       parent_id: str, text: str, channel_id: str) -> str | None:
    """``comments.list?parentId=``: the channel's own reply with ``text``."""
    params: dict[str, Any] = {"part": "snippet", "parentId": parent_id,
                              "maxResults": LOOKUP_LIMIT, "textFormat": "plainText"}
    for _ in range(20):  # bounded: 2,000 replies to one comment
        body = get("comments", params)
        for item in body.get("items") or []:
            s = item.get("snippet") or {}
            author = (s.get("authorChannelId") or {}).get("value")
            if author == channel_id and same_text(
                    str(s.get("textOriginal") or s.get("textDisplay") or ""), text):
                return str(item["id"])
        if not body.get("nextPageToken"):
            return None
        params["pageToken"] = body["nextPageToken"]
    return None


def _data(body: Any) -> list[dict[str, Any]]:
    data = body.get("data") if isinstance(body, dict) else None
    return [i for i in data or [] if isinstance(i, dict) and i.get("id")]


def _id_of(graph: GraphClient, body: Any) -> str:
    from adapters.errors import OutcomeUnknown

    if isinstance(body, dict) and body.get("id"):
        return str(body["id"])
    raise OutcomeUnknown(graph.platform, "Jawaban Meta tanpa id balasan.",
                         "Meta's answer carried no reply id.", code="bad_response")
