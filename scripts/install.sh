#!/usr/bin/env bash
# Installs everything mailroom needs on a fresh Debian machine, from apt: Tesseract (OCR), the monospace letter font
# of the papers corpus (fonts-dejavu-core), the PostgreSQL server (the shared-ledger tests start a throwaway cluster
# from its binaries; no service is used) and Chromium (the browser test renders the Prefect UI in it); then the
# project from pip.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v tesseract >/dev/null 2>&1 || missing+=(tesseract-ocr)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ] || missing+=(fonts-dejavu-core)
# Debian keeps initdb/pg_ctl off PATH, under /usr/lib/postgresql/<version>/bin (tests/pg.py looks in both places).
if ! command -v initdb >/dev/null 2>&1 && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  missing+=(postgresql)
fi
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
python -m pip install -q --disable-pip-version-check -e '.[dev,sandbox]'  # sandbox: emulators + corpus libraries
