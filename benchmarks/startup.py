"""Start-up time and size of the installed app beside canns-gui run from the venv (a benchmark, not a test)

    python benchmarks/startup.py [--runs 5] [--app dist/canns-gui/canns-gui] [--venv .venv] [--drop-caches]

Each launch runs ``canns-gui --screenshot FILE`` in a clean environment (``env -i``: a HOME of its own, PATH
/usr/bin:/bin, QT_QPA_PLATFORM=offscreen); the time to the first window is from the launch to the moment the
shown window's first event-loop turn prints ``first-window <unix time>`` (the app then saves the picture and
quits). "first launch" has an empty user cache folder (matplotlib builds its font list, the frozen app shows
its notice); "warm" launches reuse it (median and best of --runs). --drop-caches also empties the kernel's
page cache before each first launch (root only; it slows every process on the machine for a while), which
makes those true cold starts. Sizes: the app folder, its .deb/.tar.gz when built, and the venv it came from.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def folder_size(path: Path) -> int:
    """Bytes of the regular files under ``path`` (symlinks not followed), like ``du --apparent-size``."""
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            p = Path(folder) / name
            if not p.is_symlink():
                total += p.stat().st_size
    return total


def drop_page_cache() -> bool:
    """Empty the kernel's page cache (needs root); False when not allowed."""
    try:
        subprocess.run(["sync"], check=True)
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def launch(command: list[str], home: Path) -> tuple[float, float]:
    """(seconds to the first window, seconds until the process exited) of one launch."""
    shot = home / "first-window.png"
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "QT_QPA_PLATFORM": "offscreen"}
    start = time.time()
    proc = subprocess.run(
        [*command, "--screenshot", str(shot)], env=env, capture_output=True, text=True, timeout=300
    )
    ended = time.time()
    stamps = [line.split()[1] for line in proc.stdout.splitlines() if line.startswith("first-window ")]
    if proc.returncode != 0 or not stamps or not shot.exists():
        raise RuntimeError(f"{command[0]} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return float(stamps[0]) - start, ended - start


def measure(command: list[str], runs: int, cold: bool) -> dict:
    """First launch (fresh HOME) and ``runs`` warm launches of ``command``."""
    with tempfile.TemporaryDirectory(prefix="canns-startup-") as tmp:
        home = Path(tmp)
        dropped = drop_page_cache() if cold else False
        first, first_exit = launch(command, home)
        warm = [launch(command, home)[0] for _ in range(runs)]
    return {
        "first_launch_s": round(first, 2),
        "first_launch_exit_s": round(first_exit, 2),
        "page_cache_dropped": dropped,
        "warm_median_s": round(statistics.median(warm), 2),
        "warm_best_s": round(min(warm), 2),
        "warm_runs": [round(w, 2) for w in warm],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="warm launches per variant")
    parser.add_argument("--app", type=Path, default=ROOT / "dist" / "canns-gui" / "canns-gui")
    parser.add_argument("--venv", type=Path, default=ROOT / ".venv")
    parser.add_argument(
        "--drop-caches", action="store_true", help="empty the page cache before first launches (root)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()

    variants = {"installed app": [str(args.app)], "venv canns-gui": [str(args.venv / "bin" / "canns-gui")]}
    results: dict[str, dict] = {}
    for name, command in variants.items():
        if not Path(command[0]).exists():
            print(f"{name}: {command[0]} not found, skipped", file=sys.stderr)
            continue
        print(f"{name}: {command[0]} …", file=sys.stderr, flush=True)
        results[name] = measure(command, args.runs, args.drop_caches)

    sizes = {"installed app folder": folder_size(args.app.parent) if args.app.exists() else None}
    for built in sorted((ROOT / "dist" / "installers").glob("canns-gui*")):
        sizes[built.name] = built.stat().st_size
    sizes["venv"] = folder_size(args.venv) if args.venv.exists() else None

    print(f"\n{'':18s} {'first launch':>13s} {'warm median':>12s} {'warm best':>10s}")
    for name, r in results.items():
        first, median, best = r["first_launch_s"], r["warm_median_s"], r["warm_best_s"]
        print(f"{name:18s} {first:11.2f} s {median:10.2f} s {best:8.2f} s")
    print()
    for name, size in sizes.items():
        if size is not None:
            print(f"{name:40s} {size / 1e6:8.0f} MB")
    if args.json:
        args.json.write_text(json.dumps({"startup": results, "size_bytes": sizes}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
