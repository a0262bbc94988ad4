"""Notifications that reach people outside Warta: e-mail now, Telegram direct messages later.

A family of its own, shaped like the adapters but separate from them (a notifier talks to a
person, an adapter to a public account). The flow, all of it queue work (``postqueue``):

- an audit event the bell shows (``kinds.KIND_OF``) enqueues a ``notify_fanout`` job in the
  event's own transaction (``hook.py``), only when someone wants anything beyond the bell;
- the fan-out (``fanout.py``) decides who is concerned (``kinds.concerns``, the bell's rule),
  reads their preference and quiet hours (``quiet.py``), and inserts one delivery per
  (recipient, event, channel) — a unique key, so running it twice adds nothing — with one
  ``notify_send`` job each, due when the quiet hours end;
- the send job (``deliver.py``) renders the message in the recipient's language
  (``content.py``, ``email.py``), and sends it: ``sending`` is committed just before the
  irreversible step, so a re-run after a crash never sends the message again (at most once).

See docs/ARCHITECTURE.md, "Notifications by e-mail".
"""
