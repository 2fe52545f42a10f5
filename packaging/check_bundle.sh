#!/bin/sh
# Run a built bundle's self-test the way a user's machine would: from a read-only copy, writing only
# into a fresh PROMPTREADY_HOME, with no display and no proxy to reach the network through.
# Usage: packaging/check_bundle.sh [dist/PromptReady]   (the folder, or the one-file executable)
set -eu
BUNDLE=${1:-dist/PromptReady}
WORK=$(mktemp -d)
trap 'chmod -R u+w "$WORK"; rm -rf "$WORK"' EXIT
if [ -d "$BUNDLE" ]; then
    cp -a "$BUNDLE" "$WORK/app"
else
    # One file: it unpacks itself into TMPDIR at each start and removes that copy on exit.
    mkdir "$WORK/app"
    cp -a "$BUNDLE" "$WORK/app/PromptReady"
fi
chmod -R a-w "$WORK/app"
mkdir "$WORK/home" "$WORK/tmp"
# A CI box has no Secret Service (no session bus), so the keyring check uses keyring's null backend
# there; on a desktop, drop PYTHON_KEYRING_BACKEND to check the real one.
# An unroutable proxy makes any network attempt fail fast instead of succeeding quietly.
env -i PATH=/usr/bin:/bin HOME="$WORK/home" PROMPTREADY_HOME="$WORK/home" TMPDIR="$WORK/tmp" \
    QT_QPA_PLATFORM=offscreen PYTHON_KEYRING_BACKEND=${PYTHON_KEYRING_BACKEND-keyring.backends.null.Keyring} \
    no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 \
    HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 \
    "$WORK/app/PromptReady" --self-test
# Nothing may have been written beside the data folder: the copy is read-only, HOME is the data
# folder, and whatever went to TMPDIR (the one-file's unpacked copy) must be gone again.
if [ -n "$(ls -A "$WORK/tmp")" ]; then
    echo "the bundle left files in TMPDIR: $(ls -A "$WORK/tmp")" >&2
    exit 1
fi
echo "bundle self-test green: $(du -sh "$BUNDLE" | cut -f1)"
