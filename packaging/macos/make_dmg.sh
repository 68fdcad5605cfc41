#!/usr/bin/env bash
# macOS disk image of the app bundle (build it first with packaging/build.sh, which makes dist/canns-gui.app):
#   packaging/macos/make_dmg.sh  ->  dist/installers/canns-gui-<version>-macos-<arch>.dmg
# Untested here (no Mac); CI runs it on macos-14. The app is not signed or notarised: the first time, open it
# with right-click > Open (or: xattr -dr com.apple.quarantine /Applications/canns-gui.app).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
[[ -d dist/canns-gui.app ]] || { echo "build first: packaging/build.sh" >&2; exit 1; }
VERSION="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' core/__init__.py)"
mkdir -p dist/installers
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
cp -R dist/canns-gui.app "$stage/"
ln -s /Applications "$stage/Applications"  # drag the app onto it to install
dmg="dist/installers/canns-gui-$VERSION-macos-$(uname -m).dmg"
hdiutil create -volname "canns-gui $VERSION" -srcfolder "$stage" -ov -format UDZO "$dmg"
echo "wrote $dmg"
