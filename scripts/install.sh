#!/usr/bin/env bash
# Installs everything mailroom needs on a fresh Debian machine: Tesseract (OCR) from apt, the project from pip.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v tesseract >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq tesseract-ocr >/dev/null
fi
python -m pip install -q --disable-pip-version-check -e '.[dev,sandbox]'  # sandbox: emulators + corpus libraries
