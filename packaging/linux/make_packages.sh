#!/usr/bin/env bash
# Linux installers from the built folder (run packaging/build.sh first):
#   packaging/linux/make_packages.sh
# -> dist/installers/canns-gui_<version>_<arch>.deb        installs under /opt/canns-gui, with /usr/bin/canns-gui,
#                                                          a desktop entry and the icon
#    dist/installers/canns-gui-<version>-linux-<machine>.tar.gz   the folder itself (unpack anywhere, run canns-gui)
# Needs dpkg-deb (Debian/Ubuntu: dpkg) and readelf/objdump (binutils).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
APPDIR=dist/canns-gui
[[ -x "$APPDIR/canns-gui" ]] || { echo "build first: packaging/build.sh" >&2; exit 1; }
VERSION="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' core/__init__.py)"
ARCH="$(dpkg --print-architecture)"
OUT=dist/installers
mkdir -p "$OUT"

# --- .tar.gz of the folder
tarball="$OUT/canns-gui-$VERSION-linux-$(uname -m).tar.gz"
tar -C dist -czf "$tarball" canns-gui
echo "wrote $tarball ($(du -h "$tarball" | cut -f1))"

# --- .deb
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
pkg="$stage/canns-gui_${VERSION}_$ARCH"
mkdir -p "$pkg/DEBIAN" "$pkg/opt" "$pkg/usr/bin" "$pkg/usr/share/applications" \
    "$pkg/usr/share/icons/hicolor/256x256/apps" "$pkg/usr/share/icons/hicolor/scalable/apps"
cp -a "$APPDIR" "$pkg/opt/canns-gui"
ln -s /opt/canns-gui/canns-gui "$pkg/usr/bin/canns-gui"
install -m 644 packaging/linux/canns-gui.desktop "$pkg/usr/share/applications/canns-gui.desktop"
install -m 644 resources/canns-gui.png "$pkg/usr/share/icons/hicolor/256x256/apps/canns-gui.png"
install -m 644 resources/canns-gui.svg "$pkg/usr/share/icons/hicolor/scalable/apps/canns-gui.svg"

# the newest glibc symbol version any bundled library asks for is the libc6 the package needs
glibc="$(find "$APPDIR" -type f \( -name '*.so*' -o -name canns-gui \) -print0 \
    | xargs -0 objdump -T 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -Vu | tail -1)"
size_kb="$(du -sk "$pkg" | cut -f1)"
cat >"$pkg/DEBIAN/control" <<EOF
Package: canns-gui
Version: $VERSION
Architecture: $ARCH
Maintainer: canns-gui developers <canns-gui@users.noreply.github.com>
Installed-Size: $size_kb
Section: science
Priority: optional
Depends: libc6 (>= $glibc), libgl1, libegl1, libxcb1, libxcb-icccm4, libxcb-keysyms1
Recommends: libwayland-client0, libwayland-cursor0, libwayland-egl1
Homepage: https://github.com/canns/canns-gui
Description: attractor structure analysis of neural recordings
 Does a neural population live on a ring or a torus, and where is the animal on it? A desktop app
 (canns-gui) and its headless analysis (canns-gui --headless run FILE --out DIR) with everything they
 need bundled under /opt/canns-gui.
EOF
deb="$OUT/canns-gui_${VERSION}_$ARCH.deb"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >/dev/null
echo "wrote $deb ($(du -h "$deb" | cut -f1); needs libc6 >= $glibc)"
