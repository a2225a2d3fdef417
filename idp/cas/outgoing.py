"""Outgoing HTTP requests of the CAS server: proxy callbacks (2.5.4) and single logout (2.3.3).

One request, no redirection followed, no proxy from the environment, every socket operation
bounded by ``timeout``; https with certificate and host name verification against the system
trust store, or only against ``ca_bundle`` when one is configured. At most
:data:`MAX_ANSWER_BYTES` of the answer are read.
"""
from __future__ import annotations

import http.client
import ssl
from urllib.parse import urlsplit

MAX_ANSWER_BYTES = 64 * 1024
USER_AGENT = "EduConnect-CAS"


class OutgoingError(Exception):
    """The request could not be made or answered (the message names the reason, never a
    ticket)."""


class HttpClient:
    """Makes the CAS server's outgoing requests."""

    def __init__(self, timeout: float, ca_bundle: str | None = None) -> None:
        self.timeout = timeout
        self.context = ssl.create_default_context(cafile=ca_bundle or None)

    def request(self, method: str, url: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> int:
        """Send one request to ``url``; return the status code (OutgoingError on failure)."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(host, parts.port, timeout=self.timeout,
                                                     context=self.context)
        elif parts.scheme == "http":
            connection = http.client.HTTPConnection(host, parts.port, timeout=self.timeout)
        else:
            raise OutgoingError("not an http(s) URL")
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request(method, target, body=body,
                               headers={"User-Agent": USER_AGENT, **(headers or {})})
            response = connection.getresponse()
            response.read(MAX_ANSWER_BYTES)
            return response.status
        except ssl.SSLCertVerificationError as exc:
            raise OutgoingError(f"certificate not trusted ({exc.verify_message})") from None
        except ssl.SSLError as exc:
            raise OutgoingError(f"TLS failure ({exc.reason})") from None
        except TimeoutError:
            raise OutgoingError("no answer in time") from None
        except OSError as exc:
            raise OutgoingError(f"unreachable ({exc.strerror or type(exc).__name__})") from None
        except http.client.HTTPException as exc:
            raise OutgoingError(f"invalid HTTP answer ({type(exc).__name__})") from None
        finally:
            connection.close()
