"""The Graph fake's write side of comments (platform-apis-2.md §1.1, §1.2): the Page's reply
``POST /{comment-id}/comments`` ``message=`` (and a Page comment on a post, the same edge),
Instagram's ``POST /{ig-comment-id}/replies?message=`` (a reply to a reply goes under the
top-level comment; none on a hidden comment), and hiding: Facebook ``POST /{comment-id}``
``is_hidden=true|false``, Instagram ``POST /{ig-comment-id}?hide=true|false`` → ``{"success":
true}``. The office's replies carry the Page (or the Instagram account) as ``from``, so a
lookup can tell them apart; ``GET /{ig-comment-id}/replies?fields=from`` gives ``from{id,
username}``.

"Platform acted, answer lost" is the shared transport faults: ``fake.faults.add("drop",
"POST", r"/<comment-id>/comments")`` (or ``fake.fail("after_accept", path="/replies")`` for a
5xx after the reply was made).
"""

from __future__ import annotations

from typing import Any

from tests.fakes.graph_comments import GraphComments

#: Meta's longest comment (UNCONFIRMED for Instagram; the fake uses one limit).
MAX_COMMENT = 8000


class GraphReplies(GraphComments):
    """Mixed into ``GraphFake`` (after the comment edge it writes to)."""

    page_id: str
    page_name: str
    ig_user_id: str
    ig_username: str

    def replies_to(self, cid: str, *, by_office: bool = True) -> list[dict[str, Any]]:
        """The replies under comment ``cid`` (the office's own only, by default)."""
        own = {self.page_id, self.ig_user_id}
        return [o for o in self.objects.values() if o.get("kind") == "comment"
                and o.get("parent") == cid
                and (not by_office or (o.get("from") or {}).get("id") in own)]

    def _post_comments(self, node: str, rec: Any) -> tuple[int, Any]:
        """``POST /{page-post-id | ig-media-id | comment-id}/comments message=`` (§1.1, §1.2):
        the token's account's comment on its post or media (a first comment), or the Page's
        reply to a comment → ``{"id": ...}``."""
        target = self.objects.get(node)
        if target is None or target.get("kind") not in ("post", "photo", "video", "ig_media",
                                                        "comment"):
            return self.err(100, f"Unsupported post request. Object with ID '{node}' does not "
                                 "exist, cannot be loaded due to missing permissions, or does "
                                 "not support this operation", subcode=33)
        message = rec.form.get("message") or rec.query.get("message") or ""
        if not message:
            return self.err(100, "(#100) Missing message or attachment")
        problem = self._check_message(message)
        if problem is not None:
            return problem
        author = ((self.ig_user_id, self.ig_username) if target.get("kind") == "ig_media"
                  else (self.page_id, self.page_name))
        return 200, {"id": self.add_comment(node, message, author=author)}

    def _post_replies(self, node: str, rec: Any) -> tuple[int, Any]:
        """Instagram: a reply by the account to a top-level comment."""
        target = self.objects.get(node)
        if target is None or target.get("kind") != "comment":
            return self.err(100, f"Object with ID '{node}' does not exist", subcode=33)
        if target.get("parent") is not None:  # a reply to a reply: under the top level
            node = target["parent"]
            target = self.objects[node]
        if target.get("is_hidden"):
            return self.err(100, "(#100) Cannot reply to a hidden comment")
        message = rec.query.get("message") or rec.form.get("message") or ""
        problem = self._check_message(message)
        if problem is not None:
            return problem
        cid = self.add_comment(node, message, author=(self.ig_user_id, self.ig_username))
        return 200, {"id": cid}

    def post_node(self, node: str, rec: Any) -> tuple[int, Any] | None:
        """``POST /{comment-id}``: hide or unhide (Facebook's form field ``is_hidden``,
        Instagram's query ``hide``). None: not a comment (the caller routes it on)."""
        target = self.objects.get(node)
        if target is None or target.get("kind") != "comment":
            return None
        value = rec.form.get("is_hidden", rec.query.get("is_hidden", rec.query.get(
            "hide", rec.form.get("hide"))))
        if value not in ("true", "false"):
            return self.err(100, "(#100) The parameter is_hidden is required")
        if (target.get("from") or {}).get("id") in (self.page_id, self.ig_user_id):
            return self.err(100, "(#100) Cannot hide a comment made by the Page")
        target["is_hidden"] = value == "true"
        return 200, {"success": True}

    def _check_message(self, message: str) -> tuple[int, Any] | None:
        if not message.strip():
            return self.err(100, "(#100) The parameter message is required")
        if len(message) > MAX_COMMENT:
            return self.err(100, "(#100) Comment is too long")
        return None
