#!/bin/sh
# Wrap the one-folder bundle into a .deb with dpkg-deb (no download needed, unlike AppImage tooling).
# Usage: packaging/linux/build_deb.sh [dist/PromptReady] [dist]
set -eu
BUNDLE=${1:-dist/PromptReady}
OUT=${2:-dist}
HERE=$(dirname "$0")
VERSION=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$HERE/../../src/promptready/__init__.py")
ROOT=$(mktemp -d)
trap 'rm -rf "$ROOT"' EXIT
mkdir -p "$ROOT/DEBIAN" "$ROOT/opt" "$ROOT/usr/bin" "$ROOT/usr/share/applications" "$ROOT/usr/share/icons"
cp -a "$BUNDLE" "$ROOT/opt/promptready"
ln -s /opt/promptready/PromptReady "$ROOT/usr/bin/promptready"
# The menu entry comes from the same data as the login entry (src/promptready/autostart.py).
PYTHONPATH="$HERE/../../src" "${PYTHON:-python3}" -m promptready.autostart \
    > "$ROOT/usr/share/applications/promptready.desktop"
cp -a "$HERE/icons/hicolor" "$ROOT/usr/share/icons/"
cat > "$ROOT/DEBIAN/control" <<CONTROL
Package: promptready
Version: $VERSION
Architecture: $(dpkg --print-architecture)
Maintainer: PromptReady <hello@promptready.app>
Section: utils
Priority: optional
Description: Make prompts ready to send
 A tray app that turns rough text into a ready-to-send prompt.
CONTROL
mkdir -p "$OUT"
dpkg-deb --root-owner-group --build "$ROOT" "$OUT/promptready_${VERSION}_$(dpkg --print-architecture).deb"
