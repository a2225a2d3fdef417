"""``python -m idp.demo.fc_standin``: serve the FranceConnect stand-in (werkzeug, threaded)."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

from werkzeug.serving import make_server

from idp.demo.fc_standin.identities import DEMO_IDENTITIES, load_identities
from idp.demo.fc_standin.keys import load_signing_key
from idp.demo.fc_standin.models import ClientConfig
from idp.demo.fc_standin.server import create_app

from idp.demo.fc_standin.process import SECRET_ENV


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m idp.demo.fc_standin",
        description="A local FranceConnect v2 stand-in (OpenID Connect provider) for demos and "
                    "tests. Demo identities use the password 123.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=5000, help="port to listen on")
    parser.add_argument("--issuer-url", help="issuer (default http://HOST:PORT/api/v2)")
    parser.add_argument("--client-id", required=True, help="the registered client's id")
    parser.add_argument("--client-secret",
                        help=f"the client's secret (or the {SECRET_ENV} environment variable)")
    parser.add_argument("--redirect-uri", action="append", required=True,
                        help="a registered redirect URI (repeatable)")
    parser.add_argument("--post-logout-uri", action="append", default=[],
                        help="a registered post-logout redirect URI (repeatable)")
    parser.add_argument("--signing-alg", choices=("ES256", "RS256", "HS256"), default="ES256",
                        help="algorithm of the client's id_token and userinfo (HS256: signed "
                             "with the client secret; RS256 needs an RSA --signing-key)")
    parser.add_argument("--signing-key", help="private key file (PEM or JWK); default: a new "
                                              "P-256 key")
    parser.add_argument("--identities", help="JSON file of identities (default: built-in ones)")
    parser.add_argument("--pairwise-salt", default="educonnect-fc-standin",
                        help="secret making the pairwise subjects")
    args = parser.parse_args(argv)
    args.client_secret = args.client_secret or os.environ.get(SECRET_ENV)
    if not args.client_secret:
        parser.error(f"--client-secret or {SECRET_ENV} is required")
    args.issuer_url = args.issuer_url or f"http://{args.host}:{args.port}/api/v2"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s fc-standin %(levelname)s %(message)s")
    # Request lines carry codes, states and tokens in their query strings: not logged.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    identities = load_identities(args.identities) if args.identities else list(DEMO_IDENTITIES)
    key = load_signing_key(args.signing_key) if args.signing_key else None
    client = ClientConfig(args.client_id, args.client_secret, tuple(args.redirect_uri),
                          tuple(args.post_logout_uri), args.signing_alg)
    app = create_app(args.issuer_url, [client], identities, signing_key=key,
                     pairwise_salt=args.pairwise_salt)
    server = make_server(args.host, args.port, app, threaded=True)

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    print(f"FranceConnect stand-in: issuer {args.issuer_url}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
