"""The one wrapper around the HTTP sessions of an instagrapi client (platform ``instagram``).

instagrapi makes its own requests, so this is where Warta puts its rules for them:

- **A timeout on every request.** instagrapi passes none: a configure call whose answer never
  comes would hold a worker slot forever. API calls get ``WARTA_INSTAGRAM_TIMEOUT``, uploads
  (``rupload_*``) ``WARTA_INSTAGRAM_UPLOAD_TIMEOUT`` (30 minutes: for instagrapi's curl
  transport a timeout bounds the whole transfer, and a reel may be 300 MB on an office line).
- **A configure call is never sent twice in one operation once one went unanswered** (no
  answer, a 5xx or a 408). instagrapi resends a request after an incomplete read or a 408, and
  its ``requests`` transport retries 5xx POSTs: each resent configure is a second post. Whether
  the first one went out is for Warta's reconcile step to find out. A broken answer is reported
  as a connection error (as instagrapi's curl transport does), so instagrapi does not even try.
- **Which server.** With ``WARTA_INSTAGRAM_API_URL`` set, requests to Instagram's hosts go
  there instead (tests and staging point it at a local fake of the private API). instagrapi's
  host names are fixed in its code, so this is the clean place to change them.

It also records the URLs sent, so the adapter can tell a failure before the configure call
(safe to retry) from one after it (the post may be live).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests

#: Request paths that publish (the irreversible step of every upload).
CREATE_MARKERS = ("/media/configure",)
#: Request paths that carry media bytes.
UPLOAD_MARKERS = ("/rupload_ig",)


class GuardedSends:
    """The rules above for one adapter; ``begin()`` starts a new operation."""

    def __init__(self, *, base_url: str, timeout: float, upload_timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.upload_timeout = upload_timeout
        self.sent: list[str] = []
        #: A configure call of this operation got no usable answer: never send one again.
        self.unanswered = False

    def begin(self) -> None:
        self.sent.clear()
        self.unanswered = False

    def after_create(self) -> bool:
        """Whether this operation has sent a configure call (successfully or not)."""
        return any(marker in url for url in self.sent for marker in CREATE_MARKERS)

    def wrap(self, session: requests.Session, *, track: bool) -> None:
        """Put the rules around ``session.send``; ``track``: record its URLs and guard its
        configure calls (the private API session)."""
        original_send = session.send

        def guarded_send(prep: requests.PreparedRequest, **kw: Any) -> requests.Response:
            url = str(prep.url)
            create = track and any(marker in url for marker in CREATE_MARKERS)
            if create and self.unanswered:
                raise requests.ConnectionError(
                    "Warta does not resend a configure call whose outcome is unknown")
            if track:
                self.sent.append(url)
            if self.base_url:
                prep.url = redirect(url, self.base_url)
            if kw.get("timeout") is None:
                upload = any(marker in url for marker in UPLOAD_MARKERS)
                kw["timeout"] = self.upload_timeout if upload else self.timeout
            try:
                response = original_send(prep, **kw)
            except requests.exceptions.ChunkedEncodingError as exc:
                self.unanswered = self.unanswered or create
                raise requests.ConnectionError(f"connection lost reading the answer: {exc}",
                                               request=prep) from exc
            except requests.RequestException:
                self.unanswered = self.unanswered or create
                raise
            if create and (response.status_code >= 500 or response.status_code == 408):
                self.unanswered = True
            return response

        session.send = guarded_send  # type: ignore[method-assign, assignment]


def redirect(url: str, base: str) -> str:
    """``url`` on Instagram's hosts, sent to ``base`` instead (path and query kept)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host != "instagram.com" and not host.endswith(".instagram.com"):
        return url
    return base.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")
