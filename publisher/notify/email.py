"""A notification as an e-mail: the standard library's ``EmailMessage``, plain text with an
HTML alternative, in the recipient's language, with ``List-Unsubscribe`` pointing to their
notification settings (RFC 2369: mail clients show an "unsubscribe" button there).

The HTML uses inline CSS and no remote images (the post's thumbnail, when there is one, is
attached inline by Content-ID), so it renders the same in webmail and
desktop clients and loads nothing from outside.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import lru_cache

from jinja2 import Environment, PackageLoader, select_autoescape

from publisher.notify.content import Content
from publisher.notify.i18n import translations


@lru_cache(maxsize=1)
def _templates() -> Environment:
    return Environment(loader=PackageLoader("publisher.notify", "templates"),
                       autoescape=select_autoescape(["html"]), trim_blocks=True,
                       lstrip_blocks=True)


def plain_text(c: Content) -> str:
    parts = [c.greeting, ""] + [line for line in c.lines if line] + [""]
    parts += [f"{label}: {value}" for label, value in c.facts]
    parts += ["", f"{c.action_label}: {c.action_url}", "", "-- ",
              f"{c.footer}", f"{c.settings_label}: {c.settings_url}"]
    return "\n".join(parts) + "\n"


def new_message(subject: str, *, sender: str, to: str, now: datetime,
                unsubscribe: str) -> EmailMessage:
    """The headers every Warta e-mail carries (the body is the caller's); its Message-ID
    identifies it in server logs. ``unsubscribe`` is the ``List-Unsubscribe`` value, ``<…>``."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = to
    msg["Date"] = format_datetime(now)
    domain = sender.rsplit("@", 1)[-1].strip(" >") or None
    msg["Message-ID"] = make_msgid("warta", domain=domain)
    msg["List-Unsubscribe"] = unsubscribe
    # A notification, not a conversation: auto-responders ("out of office") stay quiet.
    msg["Auto-Submitted"] = "auto-generated"
    return msg


def build_email(c: Content, *, sender: str, to: str, now: datetime,
                thumbnail: tuple[bytes, int, int] | None = None) -> EmailMessage:
    """The message, ready for ``smtplib``. ``thumbnail`` (JPEG bytes, width, height; see
    ``thumbnail.py``) goes inline: the HTML part becomes ``multipart/related`` with the image
    by ``Content-ID``, so the message still loads nothing from outside."""
    msg = new_message(c.subject, sender=sender, to=to, now=now,
                      unsubscribe=f"<{c.settings_url}>")
    msg.set_content(plain_text(c))
    domain = sender.rsplit("@", 1)[-1].strip(" >") or None
    cid = make_msgid("thumb", domain=domain)[1:-1] if thumbnail else None
    image = None
    if thumbnail is not None:
        image = {"cid": cid, "width": thumbnail[1], "height": thumbnail[2],
                 "alt": translations(c.locale).gettext("The post's first image")}
    msg.add_alternative(_templates().get_template("email.html").render(c=c, image=image),
                        subtype="html")
    html = msg.get_body(("html",)) if thumbnail is not None else None
    if thumbnail is not None and html is not None:
        html.add_related(thumbnail[0], "image", "jpeg", cid=f"<{cid}>", disposition="inline",
                         filename="gambar.jpg")
    msg["Content-Language"] = c.locale  # after the parts: set_content drops Content-* headers
    return msg
