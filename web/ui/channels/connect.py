"""'Connect with X / Google / Facebook': the OAuth round trip that adds or reconnects a channel.

The start route (a POST form, so CSRF applies) keeps ``state`` and the PKCE verifier in the
Flask session and sends the operator to the platform. The callback checks ``state``, trades the
code for tokens with the adapters' OAuth helpers (``adapters.oauth``) and saves the channel only
through the channel services, which verify the credentials with the platform and seal them.

For Meta the operator then picks which Pages and Instagram accounts to add: meanwhile the
long-lived user token waits in the session sealed with the credential key (Fernet, with a time
limit), and the accounts are listed again from Graph when the choice is posted, so no Page token
ever reaches the browser. Secrets are never rendered, logged or put in a URL.
"""

from __future__ import annotations

import hmac
import logging
import re
from dataclasses import dataclass
from typing import Any

import requests
from cryptography.fernet import Fernet, InvalidToken
from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from adapters.errors import AdapterError, AuthExpired
from adapters.oauth import google as google_oauth
from adapters.oauth import meta as meta_oauth
from adapters.oauth import threads as threads_oauth
from adapters.oauth import tiktok as tiktok_oauth
from adapters.oauth import x as x_oauth
from publisher.config import Settings
from publisher.models import Channel, Unit
from publisher.services import channels as channel_service
from publisher.services.access import scope
from publisher.services.errors import ServiceError
from web.app import db, get_core, writes_on_get
from web.ui.channels.routes import _channel, bp
from web.ui.helpers import call, lang, me

# The OAuth libraries log request and response bodies (codes, tokens, the app secret) at DEBUG;
# WARTA_LOG_LEVEL=DEBUG must not turn that on.
for _name in ("requests_oauthlib", "oauthlib", "authlib"):
    _logger = logging.getLogger(_name)
    _logger.setLevel(max(_logger.getEffectiveLevel(), logging.INFO))

#: Session keys: the pending authorisation, and Meta's sealed token awaiting the choice.
PENDING = "warta_oauth"
PICK = "warta_oauth_pick"
#: How long the Meta picker stays usable after the callback.
PICK_SECONDS = 30 * 60


@dataclass(frozen=True)
class Provider:
    slug: str
    label: str
    platforms: tuple[str, ...]


PROVIDERS = {
    "x": Provider("x", "X", ("x",)),
    "google": Provider("google", "Google", ("youtube",)),
    "meta": Provider("meta", "Facebook", ("facebook", "instagram_graph")),
    "tiktok": Provider("tiktok", "TikTok", ("tiktok",)),
    "threads": Provider("threads", "Threads", ("threads",)),
}


def _configured(settings: Settings, slug: str) -> bool:
    return bool({"x": settings.x_client_id, "google": settings.youtube_client_id,
                 "meta": settings.meta_app_id, "tiktok": settings.tiktok_client_key,
                 "threads": settings.threads_app_id}.get(slug))


def configured_providers() -> list[Provider]:
    """The providers whose platform app the office configured (their buttons are shown)."""
    settings = get_core().settings
    return [p for slug, p in PROVIDERS.items() if _configured(settings, slug)]


def provider_for(platform: str) -> Provider | None:
    """The configured provider that can (re)connect a channel of ``platform``, if any."""
    return next((p for p in configured_providers() if platform in p.platforms), None)


def _provider(slug: str) -> Provider:
    if slug not in PROVIDERS or not _configured(get_core().settings, slug):
        abort(404)
    return PROVIDERS[slug]


def _redirect_uri(slug: str) -> str:
    public = get_core().settings.public_url
    if public:
        return public + url_for("channels.connect_callback", provider=slug)
    return url_for("channels.connect_callback", provider=slug, _external=True)


def _urls(platform: str, token_path: str, default_token: str,
          default_authorize: str) -> tuple[str, str]:
    """(authorize URL, token URL) from the WARTA_<PLATFORM>_* knobs, as the adapter reads them."""
    base, knobs = get_core().settings.platform_settings(platform)
    token = knobs.get("token_url") or (f"{base.rstrip('/')}{token_path}" if base and token_path
                                       else default_token)
    return knobs.get("authorize_url") or default_authorize, token


def _meta_app(redirect_uri: str) -> meta_oauth.MetaApp:
    settings = get_core().settings
    graph_base, _knobs = settings.platform_settings("facebook")
    _base, meta_knobs = settings.platform_settings("meta")
    return meta_oauth.MetaApp(settings.meta_app_id, settings.meta_app_secret, redirect_uri,
                              graph_base=(graph_base or meta_oauth.GRAPH_BASE).rstrip("/"),
                              dialog_base=meta_knobs.get("authorize_url")
                              or meta_oauth.DIALOG_BASE)


def _back(pending: dict[str, Any] | None) -> Response:
    channel_id = (pending or {}).get("channel")
    if channel_id:
        return redirect(url_for("channels.reconnect", channel_id=channel_id))
    return redirect(url_for("channels.index"))


def _unreachable(label: str) -> str:
    return _("%(platform)s could not be reached or did not answer properly, so nothing was "
             "connected. Try again in a few minutes.", platform=label)


# -- start ------------------------------------------------------------------------------------

@bp.route("/akun/sambung/<provider>", methods=["POST"])
@login_required
def connect_start(provider: str) -> Response:
    prov, user = _provider(provider), me()
    channel_id = request.form.get("channel", type=int)
    unit_id: int | None = None
    if channel_id is not None:
        channel = _channel(channel_id)  # another unit's channel is a 404
        if channel.platform not in prov.platforms:
            abort(400)
    elif user.is_admin:
        unit_id = request.form.get("unit", type=int)
        if unit_id is None or db().get(Unit, unit_id) is None:
            flash(_("Choose the unit that will own the account, then press the button again."),
                  "error")
            return redirect(url_for("channels.index"))
    settings, redirect_uri = get_core().settings, _redirect_uri(provider)
    try:
        if provider == "meta":
            url, state = meta_oauth.authorize_url(_meta_app(redirect_uri))
            verifier = ""
        elif provider == "tiktok":  # web Login Kit: no PKCE, state only
            authorize, _token = _urls("tiktok", "/v2/oauth/token/", tiktok_oauth.TOKEN_URL,
                                      tiktok_oauth.AUTHORIZE_URL)
            url, state = tiktok_oauth.authorization_url(settings.tiktok_client_key,
                                                        redirect_uri, authorize_url=authorize)
            verifier = ""
        elif provider == "threads":
            _base, knobs = settings.platform_settings("threads")
            url, state = threads_oauth.authorization_url(
                settings.threads_app_id, redirect_uri,
                authorize_url=knobs.get("authorize_url") or threads_oauth.AUTHORIZE_URL)
            verifier = ""
        else:
            if provider == "x":
                authorize, _token = _urls("x", "/2/oauth2/token", x_oauth.TOKEN_URL,
                                          x_oauth.AUTHORIZE_URL)
                req = x_oauth.authorization_request(settings.x_client_id, redirect_uri,
                                                    authorize_url=authorize)
            else:
                authorize, _token = _urls("youtube", "", google_oauth.TOKEN_URL,
                                          google_oauth.AUTHORIZE_URL)
                req = google_oauth.authorization_request(settings.youtube_client_id,
                                                         redirect_uri, authorize_url=authorize)
            url, state, verifier = req.url, req.state, req.code_verifier
    except Exception:  # noqa: BLE001 - a misconfigured authorize URL (e.g. plain http)
        flash(_("The %(platform)s sign-in could not be started; the administrator should check "
                "the platform app settings (see the credentials guide).", platform=prov.label),
              "error")
        return redirect(url_for("channels.index"))
    session.pop(PICK, None)
    session[PENDING] = {"provider": provider, "state": state, "verifier": verifier,
                        "channel": channel_id, "unit": unit_id}
    return redirect(url)


# -- callback ---------------------------------------------------------------------------------

@bp.route("/akun/sambung/<provider>/kembali")
@writes_on_get  # the platform sends the browser back with a GET that creates the channel
@login_required
def connect_callback(provider: str) -> Response | tuple[str, int]:
    prov = _provider(provider)
    pending = session.pop(PENDING, None)
    state = request.args.get("state", "")
    if (not isinstance(pending, dict) or pending.get("provider") != provider or not state
            or not hmac.compare_digest(state.encode(), str(pending.get("state", "")).encode())):
        return render_template("channels/connect_invalid.html", label=prov.label), 400
    error = request.args.get("error")
    if error:
        if error == "access_denied":
            flash(_("You did not allow Warta to use the %(platform)s account, so nothing was "
                    "connected. To connect it, press the button again and choose Allow.",
                    platform=prov.label), "error")
        else:
            flash(_("%(platform)s refused the sign-in (%(error)s), so nothing was connected. "
                    "Try again; if it keeps happening, the administrator should check the "
                    "platform app settings (see the credentials guide).", platform=prov.label,
                    error=re.sub(r"[^A-Za-z0-9_.-]", "", error)[:40]), "error")
        return _back(pending)
    code = request.args.get("code", "")
    if not code:
        flash(_("%(platform)s did not send a sign-in code, so nothing was connected. Press the "
                "button again.", platform=prov.label), "error")
        return _back(pending)
    if provider == "meta":
        return _meta_callback(prov, pending, code, state)
    settings, redirect_uri = get_core().settings, _redirect_uri(provider)
    try:
        if provider == "x":
            _auth, token_url = _urls("x", "/2/oauth2/token", x_oauth.TOKEN_URL,
                                     x_oauth.AUTHORIZE_URL)
            creds = x_oauth.exchange_code(settings.x_client_id, settings.x_client_secret or None,
                                          redirect_uri, code, pending["verifier"],
                                          token_url=token_url, now=get_core().now)
        elif provider == "tiktok":
            _auth, token_url = _urls("tiktok", "/v2/oauth/token/", tiktok_oauth.TOKEN_URL,
                                     tiktok_oauth.AUTHORIZE_URL)
            creds = tiktok_oauth.exchange_code(settings.tiktok_client_key,
                                               settings.tiktok_client_secret, redirect_uri,
                                               code, token_url=token_url, now=get_core().now)
        elif provider == "threads":
            _base, knobs = settings.platform_settings("threads")
            creds = threads_oauth.exchange_code(
                settings.threads_app_id, settings.threads_app_secret, redirect_uri, code,
                oauth_base=knobs.get("oauth_url") or threads_oauth.OAUTH_BASE,
                now=get_core().now)
        else:
            _auth, token_url = _urls("youtube", "", google_oauth.TOKEN_URL,
                                     google_oauth.AUTHORIZE_URL)
            creds = google_oauth.exchange_code(settings.youtube_client_id,
                                               settings.youtube_client_secret, redirect_uri,
                                               code, pending["verifier"], token_url=token_url,
                                               now=get_core().now)
    except AuthExpired as exc:
        flash(exc.message(lang()), "error")
        return _back(pending)
    except (AdapterError, requests.RequestException):
        flash(_unreachable(prov.label), "error")
        return _back(pending)
    return _done(_save(prov.platforms[0], creds, pending, name=None), pending)


def _done(result: Channel | ServiceError, pending: dict[str, Any]) -> Response:
    return _back(pending) if isinstance(result, ServiceError) else redirect(
        url_for("channels.index"))


def _save(platform: str, creds: dict[str, Any], pending: dict[str, Any], name: str | None,
          announce: bool = True) -> Channel | ServiceError:
    """Create the channel (in the user's unit, or the admin's chosen one) or reconnect it;
    a refusal (credentials, unit) is flashed by ``call``."""
    core, s, user = get_core(), db(), me()
    if pending.get("channel"):
        # the service refuses credentials of another account than the channel's
        return call(channel_service.reconnect_channel, core, s, user, pending["channel"], creds,
                    ok=_("The channel is reconnected; waiting publications resume now."))
    return call(channel_service.create_channel, core, s, user, platform=platform, name=name,
                credentials=creds, unit_id=pending.get("unit"),
                ok=_("The channel is connected and verified.") if announce else None)


# -- Meta: Pages and Instagram accounts --------------------------------------------------------

def _fernet() -> Fernet:
    return Fernet(get_core().settings.encryption_key.encode())


def _meta_callback(prov: Provider, pending: dict[str, Any], code: str, state: str) -> Response:
    app = _meta_app(_redirect_uri("meta"))
    try:
        short = meta_oauth.exchange_code(app, code, state)
        token = meta_oauth.long_lived_token(app, short)
        accounts = meta_oauth.list_accounts(app, token) if pending.get("channel") else []
    except AuthExpired as exc:
        flash(exc.message(lang()), "error")
        return _back(pending)
    except (AdapterError, requests.RequestException):
        flash(_unreachable(prov.label), "error")
        return _back(pending)
    if pending.get("channel"):
        channel = _channel(int(pending["channel"]))
        match = next((a for a in accounts if a.platform == channel.platform
                      and a.external_id == channel.external_id), None)
        if match is None:
            flash(_("The Facebook account you signed in with does not manage this channel, so it "
                    "was not changed. Sign in as an administrator of the Page and try again."),
                  "error")
            return _back(pending)
        return _done(_save(channel.platform, match.credentials, pending, name=None), pending)
    session[PICK] = {"token": _fernet().encrypt(token.encode()).decode(),
                     "unit": pending.get("unit")}
    return redirect(url_for("channels.connect_pick"))


def _pick_token() -> str | None:
    pick = session.get(PICK)
    if not isinstance(pick, dict):
        return None
    try:
        return _fernet().decrypt(str(pick.get("token", "")).encode(), ttl=PICK_SECONDS).decode()
    except (InvalidToken, ValueError):
        return None


@bp.route("/akun/sambung/meta/pilih", methods=["GET", "POST"])
@login_required
def connect_pick() -> str | Response | tuple[str, int]:
    prov = _provider("meta")
    token = _pick_token()
    if token is None:
        session.pop(PICK, None)
        flash(_("The Facebook sign-in has expired. Press 'Connect with Facebook' again."),
              "error")
        return redirect(url_for("channels.index"))
    try:
        accounts = meta_oauth.list_accounts(_meta_app(_redirect_uri("meta")), token)
    except AuthExpired as exc:
        session.pop(PICK, None)
        flash(exc.message(lang()), "error")
        return redirect(url_for("channels.index"))
    except (AdapterError, requests.RequestException):
        flash(_unreachable(prov.label), "error")
        return redirect(url_for("channels.index"))
    s, user = db(), me()
    existing = {(c.platform, c.external_id) for c in s.execute(
        scope(select(Channel), user, Channel.unit_id)).unique().scalars()}
    if request.method == "POST":
        chosen = set(request.form.getlist("account"))
        picked = [a for a in accounts if f"{a.platform}:{a.external_id}" in chosen
                  and (a.platform, a.external_id) not in existing]
        if not picked:
            flash(_("Choose at least one account to connect."), "error")
        else:
            pending = {"unit": session.get(PICK, {}).get("unit")}
            done = sum(1 for a in picked if not isinstance(
                _save(a.platform, a.credentials, pending, name=a.name, announce=False),
                ServiceError))
            session.pop(PICK, None)
            if done:
                flash(_("%(n)s account(s) connected and verified.", n=done), "success")
            return redirect(url_for("channels.index"))
    rows = [{"key": f"{a.platform}:{a.external_id}", "platform": a.platform, "name": a.name,
             "username": a.username, "connected": (a.platform, a.external_id) in existing}
            for a in accounts]
    page = render_template("channels/pick.html", accounts=rows)
    return (page, 400) if request.method == "POST" else page
