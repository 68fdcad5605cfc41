#!/usr/bin/env bash
# Build the one-folder app from the project's environment:
#   packaging/build.sh [extra PyInstaller options, e.g. --clean]
# -> dist/canns-gui/canns-gui (Linux), dist/canns-gui/canns-gui.exe (Windows), dist/canns-gui.app (macOS).
# PYTHON picks the interpreter (default: .venv/bin/python, else python3); CANNS_BUNDLE_NWB=1 adds .nwb support.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-}"
if [[ -z "$PY" ]]; then
    if [[ -x .venv/bin/python ]]; then PY=.venv/bin/python; else PY=python3; fi
fi
PIN="$(sed -n 's/^package = \["pyinstaller==\(.*\)"\]/\1/p' pyproject.toml)"  # the 'package' extra
if [[ "$("$PY" -c 'import PyInstaller; print(PyInstaller.__version__)' 2>/dev/null || true)" != "$PIN" ]]; then
    echo "installing pyinstaller==$PIN into $("$PY" -c 'import sys; print(sys.prefix)')"
    "$PY" -m pip install --quiet "pyinstaller==$PIN"
fi
start=$(date +%s)
"$PY" -m PyInstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller "$@" \
    packaging/canns-gui.spec
seconds=$(( $(date +%s) - start ))
if [[ -d dist/canns-gui.app ]]; then target=dist/canns-gui.app; else target=dist/canns-gui; fi
echo "built $target in ${seconds} s: $(du -sh "$target" | cut -f1)"
