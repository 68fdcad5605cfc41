#!/usr/bin/env bash
# Smoke test of the built app (Linux): build it, then run the executable in a clean environment (no project
# venv on PATH, a fresh HOME, QT_QPA_PLATFORM=offscreen) and check what it writes.
#   packaging/smoke_test.sh [--no-build]     (~4 min with the build, ~1.5 min without, on 2 cores)
# Checks: --version; a headless demo analysis (ripser in a worker process; verdict torus; the 40 report files;
# library versions recorded); a shuffle test on a process pool; the first window (offscreen screenshot); the
# install folder left untouched and the caches in the user's cache folder.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [[ "${1:-}" != "--no-build" ]]; then packaging/build.sh; fi
APP="$ROOT/dist/canns-gui/canns-gui"
[[ -x "$APP" ]] || { echo "FAIL: $APP not found (build first)"; exit 1; }
VERSION="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' core/__init__.py)"
CHECK_PY="${CHECK_PYTHON:-python3}"  # only reads the outputs; the app itself runs without it

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/home"
touch "$WORK/stamp"
clean() { (cd "$WORK" && env -i HOME="$WORK/home" PATH=/usr/bin:/bin LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen "$@"); }
step() { printf '%-44s' "$1"; }
t0=$SECONDS

step "--version"
out="$(clean "$APP" --version)"
[[ "$out" == "canns-gui $VERSION" ]] || { echo "FAIL: got '$out'"; exit 1; }
echo "ok ($out)"

step "--headless demo (gap test, all views)"
s=$SECONDS
clean "$APP" --headless demo --out "$WORK/demo" >"$WORK/demo.out" 2>"$WORK/demo.err" \
    || { echo "FAIL"; tail -20 "$WORK/demo.err"; exit 1; }
echo "ok ($((SECONDS - s)) s: $(cat "$WORK/demo.out"))"

step "--headless demo --shuffles 2 (process pool)"
s=$SECONDS
clean "$APP" --headless demo --minutes 5 --shuffles 2 --views none --out "$WORK/shuffles" \
    >"$WORK/shuffles.out" 2>"$WORK/shuffles.err" || { echo "FAIL"; tail -20 "$WORK/shuffles.err"; exit 1; }
echo "ok ($((SECONDS - s)) s)"

step "first window (offscreen)"
s=$SECONDS
clean "$APP" --demo --screenshot "$WORK/first-window.png" >"$WORK/gui.out" 2>"$WORK/gui.err" \
    || { echo "FAIL"; tail -20 "$WORK/gui.err"; exit 1; }
echo "ok ($((SECONDS - s)) s)"
if [[ -n "${SMOKE_KEEP:-}" ]]; then cp "$WORK/first-window.png" "$SMOKE_KEEP"; fi

step "outputs"
"$CHECK_PY" - "$WORK" "$ROOT/dist/canns-gui" <<'EOF'
import json, struct, sys
from pathlib import Path

work, install = Path(sys.argv[1]), Path(sys.argv[2])
problems = []
demo = work / "demo"
files = {p.name for p in demo.iterdir()}
for name in ("summary.json", "persistence.npz", "decoding.npz", "barcode.png", "barcode.svg", "barcode.pdf",
             "cohomap.png", "cohospace.svg", "pathcompare.pdf", "gridscores.csv", "frm.png", "fr.npz"):
    if name not in files:
        problems.append(f"demo: {name} missing")
if len(files) < 40:
    problems.append(f"demo: {len(files)} files, expected 40")
summary = json.loads((demo / "summary.json").read_text())
if summary["verdict"] != "torus":
    problems.append(f"demo: verdict {summary['verdict']!r}, expected 'torus'")
missing = [k for k, v in summary["software"].items() if v == "not installed"]
if missing:
    problems.append(f"demo: versions not recorded for {missing}")
shuffled = json.loads((work / "shuffles" / "summary.json").read_text())["significance"]
if shuffled["method"] != "shuffle test" or len(shuffled["null_maxima"].get("h1", [])) != 2:
    problems.append(f"shuffles: {shuffled['method']}, null maxima {shuffled['null_maxima']}")
png = (work / "first-window.png").read_bytes()
width, height = struct.unpack(">II", png[16:24]) if png[:8] == b"\x89PNG\r\n\x1a\n" else (0, 0)
if width < 640 or height < 400:
    problems.append(f"first window: {width}x{height} picture")
changed = [p for p in install.rglob("*") if p.stat().st_mtime > (work / "stamp").stat().st_mtime]
if changed:
    problems.append(f"the install folder was written to: {changed[:3]}")
caches = work / "home" / ".cache" / "canns-gui"
if not any(caches.glob("matplotlib-*/fontlist-*.json")):
    problems.append(f"no font cache in {caches}")
if problems:
    print("FAIL\n  " + "\n  ".join(problems))
    sys.exit(1)
print(f"ok (verdict {summary['verdict']}, {len(files)} files, window {width}x{height}, caches in ~/.cache/canns-gui)")
EOF
echo "smoke test passed in $((SECONDS - t0)) s"
