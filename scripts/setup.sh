#!/usr/bin/env bash
# Idempotent set-up: Debian packages where missing, .venv, pinned Python packages.
# Fast when nothing changed: a stamp holds the hash of pyproject.toml and constraints.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(libx11-6 libxrender1 libxfixes3 libxi6 libxkbcommon0 libsm6 libice6 libxext6 libxxf86vm1
              libgl1 libglx0 libegl1 openjdk-17-jre-headless chromium fonts-dejavu-core)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
[ -x .venv/bin/python ] || "$PY" -m venv .venv

stamp=.venv/.omnidiff-setup
want=$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing Python packages into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  # torch first and pinned: an unpinned torch would pull a CUDA build of several GB.
  .venv/bin/python -m pip install -q "torch==2.13.0"
  .venv/bin/python -m pip install -q -c constraints.txt -e ".[all]"
  # lmms-eval runs the exported task folders; without --no-deps it would pull a CUDA torch and torchvision.
  # Its run-time needs come with the [lmms] extra above (filelock<4: 0.7.3 imports filelock._api).
  .venv/bin/python -m pip install -q -c constraints.txt --no-deps "lmms-eval==0.7.3"
  echo "$want" > "$stamp"
fi
