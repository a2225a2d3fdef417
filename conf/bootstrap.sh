#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a running product or a finished test run.
#   bash conf/bootstrap.sh demo   install what is missing, then run `educonnect demo`
#   bash conf/bootstrap.sh test   install what is missing, then run the whole test suite
# Re-running is fast: packages already there are not reinstalled, the virtualenv is reused.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv"
action=${1:-}
case "$action" in
  demo|test|install) ;;
  *) echo "usage: bash conf/bootstrap.sh demo|test|install" >&2; exit 2 ;;
esac

# Debian packages: the directory server and its tools, Redis, headers for python-ldap and
# xmlsec, Python with venv, a compiler for the packages that build native code.
DEBS=(python3 python3-venv python3-dev gcc pkg-config
      slapd ldap-utils libldap2-dev libsasl2-dev
      redis-server
      libxml2-dev libxmlsec1-dev libxmlsec1-openssl xmlsec1
      chromium)

missing=()
for pkg in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# Node.js with npm for the front-end assets: any installation will do (some bundle npm in
# their nodejs package, where Debian's npm package would conflict), Debian's when there is none.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "Need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
  fi
  echo "Installing Debian packages: ${missing[*]}"
  # Installing slapd must not start or configure a system-wide server: the product runs its own.
  export DEBIAN_FRONTEND=noninteractive
  echo "slapd slapd/no_configuration boolean true" | $SUDO debconf-set-selections
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The virtualenv, rebuilt only when setup.cfg changes.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
stamp="$VENV/.setup.cfg.sha256"
want=$(sha256sum setup.cfg pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "Installing Python packages into $VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e ".[test]"
  echo "$want" > "$stamp"
fi

# The design system (DSFR) and axe-core from npm, reinstalled only when package.json or
# package-lock.json changes.
npm_stamp="$ROOT/node_modules/.package.sha256"
npm_want=$(cat package.json package-lock.json 2>/dev/null | sha256sum | cut -d' ' -f1)
if [ "$(cat "$npm_stamp" 2>/dev/null)" != "$npm_want" ]; then
  echo "Installing npm packages into node_modules"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
  echo "$npm_want" > "$npm_stamp"
fi

case "$action" in
  install) echo "Installed." ;;
  demo) exec "$VENV/bin/educonnect" demo ;;
  test)
    set +e
    "$VENV/bin/python" -m pytest -p no:cacheprovider "${@:2}"
    status=$?
    # pytest's 5 means no test ran: that is a failure, not a pass.
    [ $status -eq 5 ] && echo "No test was collected." >&2 && exit 1
    exit $status ;;
esac
