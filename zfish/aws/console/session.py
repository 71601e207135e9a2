"""Console sessions: a signed cookie naming a server-side session, with its key pair and CSRF token."""

from __future__ import annotations

import hmac
import secrets
import threading
from dataclasses import dataclass, field

from itsdangerous import BadSignature, Signer

COOKIE = "zfish_console"
CSRF_FIELD = "csrf"


@dataclass
class Session:
    """One browser's session: the credential it signed in with (if any) and its CSRF token."""

    sid: str
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    access_key: str = ""
    secret_key: str = ""

    @property
    def signed_in(self) -> bool:
        return bool(self.access_key)

    def csrf_ok(self, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(self.csrf, given or "")


class Sessions:
    """Sessions in memory (they end with the server), named by a cookie signed with a per-process key.

    The credential stays on the server: the cookie carries only the signed id.
    """

    def __init__(self) -> None:
        self._signer = Signer(secrets.token_bytes(32), salt="zfish-console")
        self._items: dict[str, Session] = {}
        self._lock = threading.Lock()

    def find(self, cookie: str | None) -> Session | None:
        if not cookie:
            return None
        try:
            sid = self._signer.unsign(cookie).decode()
        except BadSignature:
            return None
        with self._lock:
            return self._items.get(sid)

    def new(self) -> Session:
        session = Session(secrets.token_urlsafe(24))
        with self._lock:
            self._items[session.sid] = session
        return session

    def drop(self, session: Session) -> None:
        with self._lock:
            self._items.pop(session.sid, None)

    def cookie_value(self, session: Session) -> str:
        return self._signer.sign(session.sid).decode()
