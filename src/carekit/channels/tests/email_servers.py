"""Real mail servers for the email adapter's tests, on 127.0.0.1, started and stopped by fixtures.

- IMAP: Debian's dovecot (`dovecot-imapd`), run in the foreground from a generated config in a temp
  directory: a passwd-file for passwords, an oauth2 passdb that asks `OAuthServer` to introspect
  XOAUTH2 bearer tokens, maildirs under the temp directory. Works as root and as an ordinary user.
- SMTP: aiosmtpd, a real SMTP server; it accepts PLAIN/LOGIN passwords and XOAUTH2 tokens issued by
  `OAuthServer`, keeps every envelope, and delivers mail for the dovecot users into their maildirs, so
  a reply sent by SMTP can be read back by IMAP.
- OAuth: a tiny token endpoint (refresh-token grant) and an RFC 7662 introspection endpoint.
"""

from __future__ import annotations

import base64
import grp
import json
import os
import pwd
import shutil
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword

HOST = "127.0.0.1"
PORTS = range(18200, 18300)


def free_port(exclude: set[int] | None = None) -> int:
    for port in PORTS:
        if exclude and port in exclude:
            continue
        with socket.socket() as s:
            try:
                s.bind((HOST, port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 18200-18299")


def wait_port(port: int, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {HOST}:{port}")


# --- OAuth ------------------------------------------------------------------------------------------


class OAuthServer:
    """Issues access tokens for a known refresh token and introspects them for dovecot."""

    def __init__(self, port: int, *, refresh_token: str, user: str) -> None:
        self.port = port
        self.refresh_token = refresh_token
        self.user = user
        self.issued: set[str] = set()
        self.token_requests = 0
        self.introspections = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if self.path == "/token":
                    owner.token_requests += 1
                    if (
                        form.get("grant_type") != "refresh_token"
                        or form.get("refresh_token") != owner.refresh_token
                    ):
                        return self._json(400, {"error": "invalid_grant"})
                    token = f"at-{uuid.uuid4().hex}"
                    owner.issued.add(token)
                    return self._json(
                        200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600}
                    )
                if self.path == "/introspect":
                    owner.introspections += 1
                    ok = form.get("token") in owner.issued
                    return self._json(
                        200, {"active": ok, "username": owner.user} if ok else {"active": False}
                    )
                return self._json(404, {})

            def _json(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer((HOST, port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> OAuthServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# --- IMAP (dovecot) ---------------------------------------------------------------------------------


def _dovecot_binary() -> str:
    path = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else "")
    if not path or not os.path.exists("/usr/lib/dovecot/imap"):
        raise RuntimeError(
            "dovecot with IMAP is not installed: `apt-get install -y dovecot-imapd` (.ci/run installs it)"
        )
    return path


@dataclass
class Dovecot:
    root: Path
    port: int
    users: dict[str, str]
    introspection_url: str = ""
    mail_ids: tuple[int, int] = (0, 0)
    process: subprocess.Popen | None = field(default=None, repr=False)

    def maildir(self, user: str) -> Path:
        return self.root / "mail" / user

    def deliver(self, user: str, raw: bytes) -> None:
        """Maildir delivery: write into tmp/, rename into new/ (what an MDA does)."""
        box = self.maildir(user)
        uid, gid = self.mail_ids
        for path in (box, box / "tmp", box / "new", box / "cur"):
            if not path.exists():
                path.mkdir(parents=True)
                os.chown(path, uid, gid)
        name = f"{time.time_ns()}.{uuid.uuid4().hex}.carekit-test"
        tmp = box / "tmp" / name
        tmp.write_bytes(raw)
        os.chown(tmp, uid, gid)
        tmp.rename(box / "new" / name)

    def start(self) -> Dovecot:
        binary = _dovecot_binary()
        uid, gid = os.getuid(), os.getgid()
        user, group = pwd.getpwuid(uid).pw_name, grp.getgrgid(gid).gr_name
        # Dovecot's login and internal processes refuse root: as root they run as the package's users.
        login_user, internal_user, internal_group = (
            ("dovenull", "dovecot", "dovecot") if uid == 0 else (user, user, group)
        )
        os.chmod(self.root, 0o755)
        if uid == 0:  # dovecot refuses uid 0 for mail: the mailboxes belong to its own user
            entry = pwd.getpwnam("dovecot")
            uid, gid = entry.pw_uid, entry.pw_gid
        self.mail_ids = (uid, gid)
        for sub in ("run", "state", "mail", "home"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        for sub in ("mail", "home"):
            os.chown(self.root / sub, uid, gid)
        (self.root / "passwd").write_text(
            "".join(f"{name}:{{PLAIN}}{password}::::::\n" for name, password in self.users.items())
        )
        oauth_passdb = ""
        if self.introspection_url:
            (self.root / "oauth2.conf").write_text(
                f"introspection_mode = post\nintrospection_url = {self.introspection_url}\n"
                "username_attribute = username\nactive_attribute = active\nactive_value = true\n"
                "tokeninfo_url = \n"
            )
            oauth_passdb = (
                "passdb {\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n"
                f"  args = {self.root}/oauth2.conf\n}}\n"
            )
        conf = f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
protocols = imap
listen = {HOST}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
first_valid_uid = {uid}
last_valid_uid = 0
first_valid_gid = {gid}
mail_location = maildir:{self.root}/mail/%u
mail_uid = {uid}
mail_gid = {gid}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {HOST}
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    user = {internal_user}
  }}
  unix_listener stats-writer {{
    user = {internal_user}
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/passwd
  mechanisms = plain login
}}
{oauth_passdb}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={self.root}/home/%u
}}
"""
        (self.root / "dovecot.conf").write_text(conf)
        self.process = subprocess.Popen(
            [binary, "-F", "-c", str(self.root / "dovecot.conf")],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_port(self.port)
        except RuntimeError:
            self.stop()
            log = (self.root / "dovecot.log").read_text() if (self.root / "dovecot.log").exists() else ""
            out = self.process.stdout.read().decode() if self.process.stdout else ""
            raise RuntimeError(f"dovecot did not start:\n{out}\n{log}") from None
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --- SMTP (aiosmtpd) --------------------------------------------------------------------------------


class SmtpServer:
    def __init__(
        self, port: int, *, passwords: dict[str, str], oauth: OAuthServer | None, dovecot: Dovecot | None
    ):
        self.port = port
        self.passwords = passwords
        self.oauth = oauth
        self.dovecot = dovecot
        self.envelopes: list[Envelope] = []
        self.logins: list[tuple[str, str]] = []  # (mechanism, user)
        owner = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                owner.envelopes.append(envelope)
                if owner.dovecot:
                    for rcpt in envelope.rcpt_tos:
                        local, _at, domain = rcpt.lower().partition("@")
                        user = f"{local.split('+')[0]}@{domain}"
                        if user in owner.dovecot.users:
                            owner.dovecot.deliver(user, envelope.original_content or envelope.content)
                return "250 OK"

            async def auth_XOAUTH2(self, server, args):
                blob = args[2] if len(args) > 2 else await server.challenge_auth("")
                if isinstance(blob, str):
                    blob = base64.b64decode(blob)
                fields = dict(p.split("=", 1) for p in blob.decode().split("\x01") if "=" in p)
                token = fields.get("auth", "").removeprefix("Bearer ")
                ok = owner.oauth is not None and token in owner.oauth.issued
                if ok:
                    owner.logins.append(("XOAUTH2", fields.get("user", "")))
                return AuthResult(success=ok, handled=False)

        def authenticator(server, session, envelope, mechanism, auth_data):
            if isinstance(auth_data, LoginPassword):
                user, password = auth_data.login.decode(), auth_data.password.decode()
                if owner.passwords.get(user) == password:
                    owner.logins.append((mechanism, user))
                    return AuthResult(success=True)
            return AuthResult(success=False, handled=False)

        self.controller = Controller(
            Handler(),
            hostname=HOST,
            port=port,
            authenticator=authenticator,
            auth_require_tls=False,
            auth_required=True,
            decode_data=False,
        )

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
