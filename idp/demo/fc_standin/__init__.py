"""A local stand-in of FranceConnect v2 (an OpenID Connect provider speaking the platform's
protocol under ``/api/v2``), for the demo and the tests: ``create_app`` builds it,
``python -m idp.demo.fc_standin`` serves it, :class:`StandIn` runs it as a subprocess."""
from idp.demo.fc_standin.identities import (
    DEMO_IDENTITIES,
    Identity,
    dump_identities,
    load_identities,
    pairwise_subject,
)
from idp.demo.fc_standin.keys import generate_signing_key, load_signing_key, save_signing_key
from idp.demo.fc_standin.models import ClientConfig
from idp.demo.fc_standin.process import StandIn
from idp.demo.fc_standin.server import create_app

__all__ = [
    "DEMO_IDENTITIES",
    "ClientConfig",
    "Identity",
    "StandIn",
    "create_app",
    "dump_identities",
    "generate_signing_key",
    "load_identities",
    "load_signing_key",
    "pairwise_subject",
    "save_signing_key",
]
