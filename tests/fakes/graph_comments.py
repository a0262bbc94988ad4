"""The Graph fake's comment edge (platform-apis-2.md §1.1): ``GET /{object}/comments`` with
``filter`` (``toplevel`` default, ``stream`` = every level flat), ``order`` (chronological
default, or reverse_chronological), ``limit`` (≤ 100), ``after`` cursors in ``paging.cursors``
and ``paging.next`` only when more follow; ``from`` left out (key absent) for people whose
data is not shared. Tests add, edit, hide and delete comments between reads; rate limits come
from the fake's own ``fail("throttle", path="/comments")``.

A cursor here is the position after a comment's sequence number, so a comment deleted between
two reads neither shifts the next page nor repeats one (Meta's cursors are opaque; this is the
behaviour a client may rely on, not their encoding).
"""

from __future__ import annotations

import base64
from typing import Any


class GraphComments:
    """Mixed into ``GraphFake``: uses its ``objects``, ``new_id`` and ``err``."""

    objects: dict[str, dict[str, Any]]
    page_id: str
    page_name: str
    ig_user_id: str
    ig_username: str

    def new_id(self) -> str:  # pragma: no cover - GraphFake's
        raise NotImplementedError

    def add_comment(self, on: str, message: str, *, author: tuple[str, str] | None = (
            "9001", "Warga Contoh"), created_time: str = "2026-09-01T11:00:00+0000",
            hidden: bool = False) -> str:
        """A comment on post ``on`` (or a reply when ``on`` is a comment id); ``author``
        None: Meta leaves ``from`` out."""
        target = self.objects[on]
        post = target["post"] if target.get("kind") == "comment" else on
        seq = int(self.new_id())
        cid = f"{post.split('_')[-1]}_{seq}"
        self.objects[cid] = {"id": cid, "kind": "comment", "post": post, "seq": seq,
                             "parent": on if target.get("kind") == "comment" else None,
                             "message": message, "created_time": created_time,
                             "from": {"id": author[0], "name": author[1]} if author else None,
                             "is_hidden": hidden}
        return cid

    def edit_comment(self, cid: str, message: str) -> None:
        self.objects[cid]["message"] = message

    def delete_comment(self, cid: str) -> None:
        """Deleted comments simply disappear from the edge (and so do their replies)."""
        for key in [k for k, o in self.objects.items()
                    if k == cid or (o.get("kind") == "comment" and o.get("parent") == cid)]:
            del self.objects[key]

    def _post_comments(self, node: str, rec: Any) -> tuple[int, Any]:
        """``POST /{page-post-id | ig-media-id}/comments message=`` (§1.1, §1.2): a comment
        by the token's account (the Page, or the Instagram account) → ``{"id": ...}``."""
        target = self.objects.get(node)
        if target is None or target.get("kind") not in ("post", "photo", "video", "ig_media"):
            return self.err(100, f"Object with ID '{node}' does not exist", subcode=33)
        message = str(rec.form.get("message") or "")
        if not message:
            return self.err(100, "(#100) Missing message or attachment")
        author = ((self.ig_user_id, self.ig_username) if target.get("kind") == "ig_media"
                  else (self.page_id, self.page_name))
        return 200, {"id": self.add_comment(node, message, author=author)}

    def own_comments(self, on: str) -> list[dict[str, Any]]:
        """The comments the account itself left on ``on`` (what a first comment test counts)."""
        return [o for o in self.objects.values() if o.get("kind") == "comment"
                and o["post"] == on and o["from"] is not None
                and o["from"]["id"] in (self.page_id, self.ig_user_id)]

    def _get_comments(self, node: str, rec: Any) -> tuple[int, Any]:
        target = self.objects.get(node)
        if target is None:
            return self.err(100, f"Object with ID '{node}' does not exist", subcode=33)
        if target.get("kind") == "ig_media":
            return self._ig_list(node, rec, [o for o in self.objects.values()
                                             if o.get("kind") == "comment"
                                             and o["post"] == node and o["parent"] is None])
        q = rec.query
        if q.get("filter", "toplevel") not in ("toplevel", "stream"):
            return self.err(100, "(#100) filter must be one of the following values: "
                                 "toplevel, stream")
        if q.get("order", "chronological") not in ("chronological", "reverse_chronological"):
            return self.err(100, "(#100) order must be one of the following values: "
                                 "chronological, reverse_chronological")
        if target.get("kind") == "comment":
            items = [o for o in self.objects.values() if o.get("parent") == node]
        else:
            items = [o for o in self.objects.values() if o.get("kind") == "comment"
                     and o["post"] == node
                     and (q.get("filter") == "stream" or o["parent"] is None)]
        reverse = q.get("order") == "reverse_chronological"
        items.sort(key=lambda o: o["seq"], reverse=reverse)
        if q.get("after"):
            after = int(base64.b64decode(q["after"]).decode())
            items = [o for o in items if (o["seq"] < after if reverse else o["seq"] > after)]
        limit = min(100, int(q.get("limit", 25)))
        page, more = items[:limit], len(items) > limit
        fields = q.get("fields", "")
        data = [self._comment_out(o, fields) for o in page]
        body: dict[str, Any] = {"data": data}
        if page:
            body["paging"] = {"cursors": {"before": _cursor(page[0]["seq"]),
                                          "after": _cursor(page[-1]["seq"])}}
            if more:
                body["paging"]["next"] = (f"https://graph.facebook.com/v25.0/{node}/comments"
                                          f"?after={_cursor(page[-1]['seq'])}")
        return 200, body

    #: Replies an Instagram comment carries inline in its ``replies`` field.
    ig_inline_replies: int = 2

    def _get_replies(self, node: str, rec: Any) -> tuple[int, Any]:
        """Instagram's ``GET /{ig-comment-id}/replies``."""
        if self.objects.get(node, {}).get("kind") != "comment":
            return self.err(100, f"Object with ID '{node}' does not exist", subcode=33)
        return self._ig_list(node, rec, [o for o in self.objects.values()
                                         if o.get("parent") == node])

    def _ig_list(self, node: str, rec: Any, items: list[dict[str, Any]],
                 limit: int | None = None) -> tuple[int, Any]:
        """Instagram comment fields (``text``, ``timestamp``, ``username`` — absent for some
        people — ``hidden``), oldest first (order UNCONFIRMED), ``after`` cursors."""
        items = sorted(items, key=lambda o: o["seq"])
        after = rec.query.get("after") if rec is not None else None
        if after:
            items = [o for o in items if o["seq"] > int(base64.b64decode(after).decode())]
        limit = limit or min(100, int(rec.query.get("limit", 25)))
        page = items[:limit]
        data = []
        for o in page:
            out: dict[str, Any] = {"id": o["id"], "text": o["message"], "hidden": o["is_hidden"],
                                   "timestamp": o["created_time"]}
            if o["from"] is not None:
                out["username"] = o["from"]["name"]
                if rec is not None and any(f == "from" or f.startswith("from{") for f in
                                           rec.query.get("fields", "").split(",")):
                    out["from"] = {"id": o["from"]["id"], "username": o["from"]["name"]}
            if rec is not None and "replies{" in rec.query.get("fields", ""):
                kids = [k for k in self.objects.values() if k.get("parent") == o["id"]]
                if kids:
                    out["replies"] = self._ig_list(o["id"], None, kids,
                                                   self.ig_inline_replies)[1]
            data.append(out)
        body: dict[str, Any] = {"data": data}
        if page:
            body["paging"] = {"cursors": {"before": _cursor(page[0]["seq"]),
                                          "after": _cursor(page[-1]["seq"])}}
            if len(items) > limit:
                body["paging"]["next"] = f"https://graph.facebook.com/v25.0/{node}/x"
        return 200, body

    def _comment_out(self, o: dict[str, Any], fields: str) -> dict[str, Any]:
        out: dict[str, Any] = {"id": o["id"]}
        for name in ("message", "created_time", "is_hidden"):
            if name in fields:
                out[name] = o[name]
        if "from" in fields and o["from"] is not None:
            out["from"] = dict(o["from"])
        if "parent" in fields and o["parent"] is not None:
            out["parent"] = {"id": o["parent"]}
        return out

    def err(self, code: int, message: str, subcode: int | None = None,
            status: int = 400) -> tuple[int, dict[str, Any]]:  # pragma: no cover - GraphFake's
        raise NotImplementedError


def _cursor(seq: int) -> str:
    return base64.b64encode(str(seq).encode()).decode()
