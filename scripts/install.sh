#!/usr/bin/env bash
# Installs everything mailroom needs on a fresh Debian machine: Tesseract (OCR) and the monospace letter font of the
# papers corpus (fonts-dejavu-core) from apt, the project from pip.
set -euo pipefail
cd "$(dirname "$0")/.."
apt_packages=()
command -v tesseract >/dev/null 2>&1 || apt_packages+=(tesseract-ocr)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ] || apt_packages+=(fonts-dejavu-core)
if [ ${#apt_packages[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi
python -m pip install -q --disable-pip-version-check -e '.[dev,sandbox]'  # sandbox: emulators + corpus libraries
