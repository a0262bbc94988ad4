"""The documented reverse proxy, really run: Debian's nginx with ``docs/ops/nginx/warta.conf``
(only its ports and paths changed, a self-signed certificate made here) in front of the app
served by gunicorn with ``docs/ops/gunicorn.conf.py`` and the documented settings
(``WARTA_PUBLIC_URL=https://…``, ``WARTA_TRUSTED_PROXIES=1``): https probes, the login page
and its static files, HTTP → HTTPS, and the app seeing the request as the browser sent it
(https, the public host and port) through the forwarded headers."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import pwd
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.ops.test_deploy import OPS, ROOT, _free_port, _wait_for

HOST = "warta.example.go.id"


def _nginx() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is missing in CI: .ci/run installs Debian's nginx")
        pytest.skip("nginx is not installed here (apt-get install nginx)")
    return found


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for the documented host (and 127.0.0.1, which the test
    dials), the key next to it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName(HOST), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    chain, private = folder / "fullchain.pem", folder / "privkey.pem"
    chain.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return chain, private


def _site(folder: Path, web: int, http: int, https: int, chain: Path, key: Path) -> str:
    """The documented site, its ports and paths changed and nothing else."""
    conf = (OPS / "nginx" / "warta.conf").read_text()
    swaps = [("server 127.0.0.1:8000;", f"server 127.0.0.1:{web};"),
             ("listen 80;", f"listen 127.0.0.1:{http};"), ("listen [::]:80;", ""),
             ("listen 443 ssl http2;", f"listen 127.0.0.1:{https} ssl http2;"),
             ("listen [::]:443 ssl http2;", ""),
             (f"/etc/letsencrypt/live/{HOST}/fullchain.pem", str(chain)),
             (f"/etc/letsencrypt/live/{HOST}/privkey.pem", str(key)),
             ("/var/www/letsencrypt", str(folder / "acme"))]
    for old, new in swaps:
        assert old in conf, f"the documented config changed: {old!r} is gone"
        conf = conf.replace(old, new)
    return conf


def _main_conf(folder: Path, site: Path) -> str:
    """What /etc/nginx/nginx.conf gives a site, with every path inside ``folder``."""
    temps = "\n".join(f"    {kind}_temp_path {folder / kind};"
                      for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""daemon off;
master_process on;
worker_processes 1;
user {pwd.getpwuid(os.geteuid()).pw_name};
pid {folder / 'nginx.pid'};
error_log {folder / 'error.log'} warn;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    access_log {folder / 'access.log'};
{temps}
    include {site};
}}
"""


@pytest.mark.slow
@pytest.mark.sqlite_only  # the proxy and gunicorn, not the database: once is enough
def test_nginx_in_front_of_gunicorn_with_the_documented_configs(test_env, tmp_path: Path):  # type: ignore[no-untyped-def]
    nginx = _nginx()
    folder = tmp_path / "nginx"
    (folder / "acme").mkdir(parents=True)
    web, http, https = _free_port(), _free_port(), _free_port()
    chain, key = _certificate(folder)
    (folder / "warta.conf").write_text(_site(folder, web, http, https, chain, key))
    (folder / "nginx.conf").write_text(_main_conf(folder, folder / "warta.conf"))
    test = subprocess.run([nginx, "-t", "-p", str(folder), "-c", str(folder / "nginx.conf"),
                           "-e", str(folder / "error.log")], capture_output=True, text=True)
    assert test.returncode == 0, test.stderr

    env = {"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
           "PYTHONPATH": str(ROOT), **test_env, "WARTA_BIND": f"127.0.0.1:{web}",
           "WEB_CONCURRENCY": "1", "WARTA_WEB_THREADS": "2",
           # what docs/ops/nginx/warta.conf says Warta needs behind it
           "WARTA_PUBLIC_URL": f"https://{HOST}", "WARTA_TRUSTED_PROXIES": "1"}
    app = subprocess.Popen([sys.executable, "-m", "gunicorn", "--config",
                            str(OPS / "gunicorn.conf.py"), "web.app:create_app()"],
                           cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
    proxy = subprocess.Popen([nginx, "-p", str(folder), "-c", str(folder / "nginx.conf"),
                              "-e", str(folder / "error.log")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base, site = f"https://127.0.0.1:{https}", f"https://{HOST}:{https}"
    ca = str(chain)  # what requests verifies the proxy's certificate against
    headers = {"Host": HOST}
    try:
        _wait_for(f"http://127.0.0.1:{web}/healthz", app)
        # https, checked against the certificate made above
        res = _wait_for_proxy(f"{base}/healthz", proxy, chain)
        assert res.status_code == 200 and res.json() == {"status": "ok"}
        assert res.headers["Strict-Transport-Security"].startswith("max-age=")

        page = requests.get(f"{base}/masuk", headers=headers, verify=ca, timeout=10)
        assert page.status_code == 200 and 'name="password"' in page.text
        cookie = page.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie, cookie
        css = re.search(r'href="(/static/[^"]+\.css[^"]*)"', page.text)
        assert css, "the login page links a stylesheet"
        asset = requests.get(base + css.group(1), headers=headers, verify=ca, timeout=10)
        assert asset.status_code == 200 and asset.headers["Content-Type"].startswith("text/css")
        assert len(asset.content) > 100

        # plain http: sent to https, same host and path
        moved = requests.get(f"http://127.0.0.1:{http}/masuk?x=1", headers=headers,
                             allow_redirects=False, timeout=10)
        assert moved.status_code == 301
        assert moved.headers["Location"] == f"https://{HOST}/masuk?x=1"

        # The app sees what the browser sent (X-Forwarded-Proto/-Host/-Port): on https,
        # Flask-WTF demands a Referer of the same origin, https://HOST:PORT; the same form
        # straight to gunicorn (plain http, no proxy) needs none.
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
        assert token, "the login form carries its CSRF token"
        form = {"csrf_token": token.group(1), "email": "nobody@example.go.id",
                "password": "salah-sekali"}
        with requests.Session() as browser:
            browser.cookies.update(page.cookies)
            bare = browser.post(f"{base}/masuk", data=form, headers=headers, verify=ca,
                                timeout=10, allow_redirects=False)
            # no Referer on https: the app's CSRF refusal (its headers, not nginx's page)
            assert bare.status_code == 400 and "Content-Security-Policy" in bare.headers
            sent = browser.post(f"{base}/masuk", data=form, verify=ca, timeout=10,
                                headers={**headers, "Referer": f"{site}/masuk"},
                                allow_redirects=False)
            # through CSRF to the password check: the login page again, "wrong password"
            assert sent.status_code == 401 and 'name="password"' in sent.text
        direct = requests.get(f"http://127.0.0.1:{web}/masuk", timeout=10)
        assert "Secure" in direct.headers["Set-Cookie"]  # WARTA_PUBLIC_URL is https
    finally:
        for proc in (proxy, app):
            proc.terminate()
        for proc in (proxy, app):
            try:
                proc.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate(timeout=10)
    log = (folder / "error.log").read_text()
    assert "[emerg]" not in log and "[crit]" not in log, log


def _wait_for_proxy(url: str, proc: subprocess.Popen, chain: Path,
                    seconds: float = 20) -> requests.Response:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"nginx exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            return requests.get(url, headers={"Host": HOST}, verify=str(chain), timeout=5)
        except requests.ConnectionError:
            time.sleep(0.05)
    raise AssertionError(f"{url} did not answer within {seconds} s")
