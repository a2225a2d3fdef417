"""The FranceConnect stand-in of ``educonnect demo``: started next to the server on a free
port, with identities matching demo parents, and the settings pointed at it."""
from __future__ import annotations

import secrets

from conf.settings import Settings
from idp.demo import data
from idp.demo.fc_standin import Identity, StandIn, dump_identities


def start_standin(settings: Settings) -> tuple[StandIn, Settings, list[dict]]:
    """Start the FranceConnect stand-in on a free port with identities matching demo parents,
    and return it with the settings pointing at it and those parents."""
    parents = data.franceconnect_parents(settings)
    identities = [Identity(login=p["login"], password="123", given_name=p["given_name"],
                           family_name=p["family_name"].upper(), birthdate="1980-01-01",
                           gender="female" if p["female"] else "male", birthplace="75056",
                           birthcountry="99100", email=f"{p['login']}@example.fr")
                  for p in parents]
    folder = data.demo_folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    identities_file = None  # the stand-in's own people when no demo parent fits
    if identities:
        identities_file = folder / "franceconnect-identities.json"
        dump_identities(identities, identities_file)
    fc = settings.franceconnect
    base = settings.server.base_url
    standin = StandIn("educonnect-demo", secrets.token_urlsafe(32),
                      [base + fc.redirect_path], [base + fc.post_logout_path],
                      identities=identities_file,
                      log_file=folder / "franceconnect-standin.log")
    standin.start()
    configured = fc.model_copy(update={
        "enabled": True, "issuer": standin.issuer, "discovery": True,
        "client_id": standin.client_id,
        "client_secret": type(fc.client_secret)(standin.client_secret)})
    return standin, settings.model_copy(update={"franceconnect": configured}), parents
