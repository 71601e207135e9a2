"""The console's gate without a browser: sign-in through the endpoint, the cookie, CSRF on every POST."""

from __future__ import annotations

import re

from werkzeug.test import Client

from tests.aws.conftest import KEY, SECRET, Live
from zfish.aws.console import Console


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def test_sign_in_keeps_only_a_signed_id_and_every_post_needs_the_token(endpoint: Live) -> None:
    client = Client(Console(endpoint_url=endpoint.url))
    first = client.get("/console/catalog")
    assert first.status_code == 303
    assert first.headers["Location"].startswith("/console/login?next=%2Fconsole%2Fcatalog")
    cookie = first.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    login = client.get("/console/login")
    token = _csrf(login.get_data(as_text=True))
    # Without the token even the sign-in is refused; with a wrong secret the endpoint says no.
    assert (
        client.post("/console/login", data={"access_key": KEY, "secret_key": SECRET}).status_code
        == 403
    )
    wrong = client.post(
        "/console/login", data={"csrf": token, "access_key": KEY, "secret_key": "nope"}
    )
    assert wrong.status_code == 401
    assert "InvalidSignatureException" in wrong.get_data(as_text=True)
    right = client.post(
        "/console/login", data={"csrf": token, "access_key": KEY, "secret_key": SECRET}
    )
    assert right.status_code == 303
    # The credential stays on the server: the cookie holds no part of the secret.
    held = client.get_cookie("zfish_console", path="/console/")
    assert held is not None
    sid, _, signature = held.value.partition(".")  # itsdangerous: "<id>.<signature>"
    assert signature
    # A cookie whose signature does not check out opens nothing.
    tampered = Client(client.application)
    tampered.set_cookie("zfish_console", f"{sid}.{signature[::-1]}", path="/console/")
    assert tampered.get("/console/catalog").status_code == 303
    page = client.get("/console/catalog")
    assert page.status_code == 200
    forged = client.post("/console/catalog", data={"name": "forged"})
    assert forged.status_code == 403
    made = client.post("/console/catalog", data={"name": "made_here", "csrf": token})
    assert made.status_code == 303
    names = {d["Name"] for d in endpoint.client("glue").get_databases()["DatabaseList"]}
    assert "made_here" in names
    assert "forged" not in names
    # Signed out, the same cookie opens nothing.
    assert client.post("/console/logout", data={"csrf": token}).status_code == 303
    assert client.get("/console/catalog").status_code == 303
