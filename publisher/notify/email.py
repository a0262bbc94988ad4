"""A notification as an e-mail: the standard library's ``EmailMessage``, plain text with an
HTML alternative, in the recipient's language, with ``List-Unsubscribe`` pointing to their
notification settings (RFC 2369: mail clients show an "unsubscribe" button there).

The HTML uses inline CSS and no remote images, so it renders the same in webmail and
desktop clients and loads nothing from outside.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import lru_cache

from jinja2 import Environment, PackageLoader, select_autoescape

from publisher.notify.content import Content


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


def build_email(c: Content, *, sender: str, to: str, now: datetime) -> EmailMessage:
    """The message, ready for ``smtplib``."""
    msg = new_message(c.subject, sender=sender, to=to, now=now,
                      unsubscribe=f"<{c.settings_url}>")
    msg.set_content(plain_text(c))
    msg.add_alternative(_templates().get_template("email.html").render(c=c), subtype="html")
    msg["Content-Language"] = c.locale  # after the parts: set_content drops Content-* headers
    return msg
