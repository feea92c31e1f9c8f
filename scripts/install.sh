#!/usr/bin/env bash
# Installs everything mailroom needs on a fresh Debian machine: Tesseract (OCR) and the PostgreSQL server (the
# shared-ledger tests start a throwaway cluster from its binaries; no service is used) from apt, the project from pip.
set -euo pipefail
cd "$(dirname "$0")/.."
apt_packages=()
if ! command -v tesseract >/dev/null 2>&1; then
  apt_packages+=(tesseract-ocr)
fi
# Debian keeps initdb/pg_ctl off PATH, under /usr/lib/postgresql/<version>/bin (tests/pg.py looks in both places).
if ! command -v initdb >/dev/null 2>&1 && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  apt_packages+=(postgresql)
fi
if ((${#apt_packages[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi
python -m pip install -q --disable-pip-version-check -e '.[dev,sandbox]'  # sandbox: emulators + corpus libraries
