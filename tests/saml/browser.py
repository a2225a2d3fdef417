"""A browser for the SAML tests: the Flask test client following this IdP's redirections,
logging in through the real login form when asked, and stopping at the page that posts a SAML
message to a service provider (or at any other page)."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.login.conftest import csrf_token

_FORM = re.compile(r'<form id="saml-post" method="post" action="([^"]*)">(.*?)</form>', re.S)
_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@dataclass
class Posted:
    """The auto-submitted form of the HTTP-POST binding: where it goes, what it carries."""

    action: str
    fields: dict[str, str] = field(default_factory=dict)


def post_form(response: TestResponse) -> Posted | None:
    """The SAML form of a page, if it has one."""
    match = _FORM.search(response.get_data(as_text=True))
    if not match:
        return None
    fields = {name: html.unescape(value) for name, value in _INPUT.findall(match.group(2))}
    return Posted(html.unescape(match.group(1)), fields)


class Browser:
    """Follows redirections inside the IdP (``base_url``) and logs in when sent to /login."""

    def __init__(self, client: FlaskClient, base_url: str) -> None:
        self.client = client
        self.base_url = base_url
        self.credentials: tuple[str, str, str] | None = None
        self.logins = 0

    def local(self, url: str) -> str:
        """``url`` as a path of the IdP (AssertionError if it points elsewhere)."""
        if url.startswith("/"):
            return url
        assert url.startswith(self.base_url + "/"), f"left the IdP for {url}"
        return url[len(self.base_url):]

    def login_as(self, identifier: str, password: str, profile: str = "eleve") -> "Browser":
        self.credentials = (identifier, password, profile)
        return self

    def _login(self, location: str) -> TestResponse:
        assert self.credentials, "a login was asked and no credentials were given"
        identifier, password, profile = self.credentials
        page = self.client.get(location)
        token = csrf_token(page.get_data(as_text=True))
        self.logins += 1
        return self.client.post(location, data={"csrf_token": token, "profile": profile,
                                                "identifier": identifier, "password": password})

    def follow(self, response: TestResponse, limit: int = 10) -> TestResponse:
        """Follow redirections within the IdP (logging in on the way) to a final page."""
        for _ in range(limit):
            if response.status_code not in (301, 302, 303):
                return response
            location = response.headers["Location"]
            if not (location.startswith("/") or location.startswith(self.base_url + "/")):
                return response  # a redirection to a service provider: stop there
            path = self.local(location)
            if urlsplit(path).path == "/login":
                response = self._login(path)
            else:
                response = self.client.get(path)
        raise AssertionError("too many redirections")

    def get(self, url: str) -> TestResponse:
        return self.follow(self.client.get(self.local(url)))

    def post(self, url: str, data: dict[str, str]) -> TestResponse:
        return self.follow(self.client.post(self.local(url), data=data))

    def saml_post(self, url: str) -> Posted:
        """GET ``url`` and follow to the form posting a SAML message; fail if there is none."""
        response = self.get(url)
        posted = post_form(response)
        assert posted is not None, (response.status_code, response.get_data(as_text=True)[:2000])
        return posted
