"""The State design system (DSFR) served by the application under ``/dsfr/``.

The files come from the ``@gouvfr/dsfr`` npm package (``package.json`` at the project root,
installed by ``npm ci`` in ``conf/bootstrap.sh``); nothing of it is copied into the source
tree. ``portal.assets_dir`` may point elsewhere (a packaged installation).
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, send_from_directory
from werkzeug.wrappers import Response

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIST = PROJECT_ROOT / "node_modules" / "@gouvfr" / "dsfr" / "dist"
ONE_DAY = 86400

blueprint = Blueprint("dsfr", __name__)


def assets_folder() -> Path:
    """The ``dist`` folder of the design system in use."""
    configured = current_app.config["SETTINGS"].portal.assets_dir
    return Path(configured) if configured else DEFAULT_DIST


@blueprint.get("/dsfr/<path:filename>")
def asset(filename: str) -> Response:
    """One file of the design system (``send_from_directory`` refuses paths leaving it)."""
    return send_from_directory(assets_folder(), filename, max_age=ONE_DAY)
