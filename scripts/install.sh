#!/usr/bin/env bash
# Installs everything mailroom needs on a fresh Debian machine: Tesseract (OCR) and Chromium (the browser test)
# from apt, the project from pip.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v tesseract >/dev/null 2>&1 || missing+=(tesseract-ocr)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)  # the browser test renders the Prefect UI in it
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
python -m pip install -q --disable-pip-version-check -e '.[dev,sandbox]'  # sandbox: emulators + corpus libraries
