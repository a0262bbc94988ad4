"""Citizens' comments read from Facebook Page posts and YouTube videos (platform-apis-2.md
§1.1, §1.5), normalised to ``IncomingComment``. The adapters call these with their own
clients, so errors are classified where every other call of theirs is.

Facebook: ``GET /{post-id}/comments?filter=stream&order=chronological`` lists every level
flat, oldest first; the ``paging.cursors.after`` of a page is where the next one starts, and a
page without ``paging.next`` is the last. ``from`` is absent (not null) for many people.

YouTube: ``commentThreads.list?videoId=&order=time`` is newest first with no "since"; a
thread carries only some of its replies, so ``comments.list?parentId=`` fetches the rest when
``totalReplyCount`` says more exist. Each page costs one quota unit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from adapters._graph import GraphClient, parse_time
from adapters.base import CommentPage, IncomingComment

FB_FIELDS = "id,message,created_time,from{id,name},parent{id},is_hidden"


def facebook_page(graph: GraphClient, external_id: str, cursor: Mapping[str, Any] | None,
                  limit: int = 100) -> CommentPage:
    params: dict[str, Any] = {"filter": "stream", "order": "chronological", "limit": limit,
                              "fields": FB_FIELDS}
    if cursor and cursor.get("after"):
        params["after"] = str(cursor["after"])
    body = graph.call("GET", f"{external_id}/comments", params=params)
    data = body.get("data") if isinstance(body, dict) else None
    comments = tuple(_facebook(item) for item in data or [] if isinstance(item, dict)
                     and item.get("id"))
    paging = body.get("paging") if isinstance(body, dict) else None
    paging = paging if isinstance(paging, dict) else {}
    after = (paging.get("cursors") or {}).get("after")
    next_cursor = {"after": after} if paging.get("next") and after else None
    return CommentPage(comments, next_cursor)


def _facebook(item: Mapping[str, Any]) -> IncomingComment:
    author: Mapping[str, Any] = item["from"] if isinstance(item.get("from"), dict) else {}
    parent: Mapping[str, Any] = item["parent"] if isinstance(item.get("parent"), dict) else {}
    hidden = item.get("is_hidden")
    return IncomingComment(
        id=str(item["id"]), text=str(item.get("message") or ""),
        created_at=parse_time(item.get("created_time")),
        parent_id=str(parent["id"]) if parent.get("id") else None,
        author_name=str(author["name"]) if author.get("name") else None,
        author_handle=None,  # a Page-scoped id is no handle a person could read
        author_id=str(author["id"]) if author.get("id") else None,
        hidden=hidden if isinstance(hidden, bool) else None)


IG_FIELDS = "id,text,timestamp,username,hidden,from"


def instagram_page(graph: GraphClient, media_id: str, cursor: Mapping[str, Any] | None,
                   limit: int = 50) -> CommentPage:
    """``GET /{ig-media-id}/comments``: top-level comments with their ``replies`` edge (the
    rest of a long reply list through ``/{comment}/replies``); ``username`` may be absent."""
    params: dict[str, Any] = {"limit": limit,
                              "fields": f"{IG_FIELDS},replies{{{IG_FIELDS}}}"}
    if cursor and cursor.get("after"):
        params["after"] = str(cursor["after"])
    body = graph.call("GET", f"{media_id}/comments", params=params)
    body = body if isinstance(body, dict) else {}
    out: list[IncomingComment] = []
    for item in body.get("data") or []:
        if not isinstance(item, dict) or not item.get("id"):
            continue
        out.append(_instagram(item, None))
        replies: Mapping[str, Any] = (item["replies"] if isinstance(item.get("replies"), dict)
                                      else {})
        children = [r for r in replies.get("data") or [] if isinstance(r, dict) and r.get("id")]
        after = ((replies.get("paging") or {}).get("cursors") or {}).get("after")
        for _ in range(50):  # bounded, like YouTube's replies
            if not (replies.get("paging") or {}).get("next") or not after:
                break
            more = graph.call("GET", f"{item['id']}/replies",
                              params={"fields": IG_FIELDS, "limit": limit, "after": after})
            replies = more if isinstance(more, dict) else {}
            children += [r for r in replies.get("data") or [] if isinstance(r, dict)
                         and r.get("id")]
            after = ((replies.get("paging") or {}).get("cursors") or {}).get("after")
        out.extend(_instagram(r, str(item["id"])) for r in children)
    paging: Mapping[str, Any] = body["paging"] if isinstance(body.get("paging"), dict) else {}
    after = (paging.get("cursors") or {}).get("after")
    return CommentPage(tuple(out), {"after": after} if paging.get("next") and after else None)


def _instagram(item: Mapping[str, Any], parent_id: str | None) -> IncomingComment:
    hidden = item.get("hidden")
    username = item.get("username") or None
    return IncomingComment(
        id=str(item["id"]), text=str(item.get("text") or ""),
        created_at=parse_time(item.get("timestamp")), parent_id=parent_id,
        author_name=username, author_handle=username,
        hidden=hidden if isinstance(hidden, bool) else None,
        author_id=str(item["from"]["id"]) if isinstance(item.get("from"), dict)
        and item["from"].get("id") else None)


Get = Callable[[str, dict[str, Any]], Mapping[str, Any]]


def youtube_page(get: Get, video_id: str, cursor: Mapping[str, Any] | None,
                 limit: int = 100) -> CommentPage:
    """``get(resource, params)`` is the adapter's own call (quota counted, errors typed)."""
    params: dict[str, Any] = {"part": "snippet,replies", "videoId": video_id, "order": "time",
                              "maxResults": limit, "textFormat": "plainText"}
    if cursor and cursor.get("page_token"):
        params["pageToken"] = str(cursor["page_token"])
    body = get("commentThreads", params)
    out: list[IncomingComment] = []
    for thread in body.get("items") or []:
        snippet = thread.get("snippet") or {}
        top = snippet.get("topLevelComment") or {}
        if not top.get("id"):
            continue
        out.append(_youtube(top, None))
        replies = [r for r in (thread.get("replies") or {}).get("comments") or [] if r.get("id")]
        if len(replies) < int(snippet.get("totalReplyCount") or 0):
            replies = _all_replies(get, str(top["id"]), limit)
        out.extend(_youtube(r, str(top["id"])) for r in replies)
    token = body.get("nextPageToken")
    return CommentPage(tuple(out), {"page_token": token} if token else None)


def _all_replies(get: Get, parent_id: str, limit: int) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"part": "snippet", "parentId": parent_id, "maxResults": limit,
                              "textFormat": "plainText"}
    replies: list[dict[str, Any]] = []
    for _ in range(50):  # bounded: 5,000 replies to one comment is past any real thread
        body = get("comments", params)
        replies.extend(r for r in body.get("items") or [] if r.get("id"))
        if not body.get("nextPageToken"):
            break
        params["pageToken"] = body["nextPageToken"]
    return replies


def _youtube(item: Mapping[str, Any], parent_id: str | None) -> IncomingComment:
    s = item.get("snippet") or {}
    published = _rfc3339(s.get("publishedAt"))
    updated = _rfc3339(s.get("updatedAt"))
    handle = s.get("authorChannelUrl") or None
    return IncomingComment(
        id=str(item["id"]), text=str(s.get("textOriginal") or s.get("textDisplay") or ""),
        created_at=published, parent_id=parent_id or s.get("parentId") or None,
        author_name=s.get("authorDisplayName") or None,
        author_handle=str(handle).rsplit("/", 1)[-1] if handle else None,
        updated_at=updated if updated and published and updated > published else None,
        hidden=None,
        author_id=str((s.get("authorChannelId") or {}).get("value") or "") or None)


def without_own(page: CommentPage, own_id: str | None) -> CommentPage:
    """The page without the office's own comments (its first comment, its replies sent from
    Warta): the inbox holds citizens' words. The cursor is kept as it is."""
    if not own_id:
        return page
    return CommentPage(tuple(c for c in page.comments if c.author_id != own_id),
                       page.next_cursor)


def _rfc3339(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
