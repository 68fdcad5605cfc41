"""Hostile project files (``*.canns.json``), opened by ``canns_gui.project.read_project``: wrong types in
every section, deep nesting, huge numbers, NaN and infinities, a Z/p coefficient that would hang a primality
test, a bin width that would exhaust memory, a 50 MB file, bytes that are not text. Each must end in one
clear refusal naming the file and the field (or, for the valid ones, load)."""

from __future__ import annotations

import json
from pathlib import Path

from hostile import HostileCase

MB = 1024**2
BASE = {
    "format": "canns-gui project",
    "version": "0.1.0",
    "input": {"path": "rec.npz", "sha256": "ab" * 32},
    "parameters": {"preset": "hd"},
    "stages_run": ["preprocess", "point_cloud"],
    "cache": {"folder": "", "keys": {"preprocess": "cd" * 32}},
    "views": {"tab": "FR", "unit_index": 2, "tabs": {"fr": {"duration_s": 10.0, "circle": 1}}},
}


def _with(changes: dict) -> dict:
    """BASE with ``changes`` merged in, section by section (a None value removes the key)."""
    data = json.loads(json.dumps(BASE))
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        elif isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return data


# name → (the file's JSON text, expect, regex of the refusal)
def _texts() -> dict[str, tuple[str, str, str]]:
    js = json.dumps
    deep = "[" * 100_000 + "]" * 100_000
    cases = {
        # valid files, old and new
        "project-valid": (js(BASE), "load", ""),
        "project-old-without-cache-or-views": (js(_with({"cache": None, "views": None})), "load", ""),
        "project-unknown-keys-and-stages": (
            js(_with({"future": {"x": 1}, "stages_run": ["preprocess", "someday"]})),
            "load",
            "",
        ),
        # wrong types, section by section
        "project-input-is-a-list": (js(_with({"input": ["rec.npz"]})), "refuse", r"input must be a table"),
        "project-input-path-is-a-number": (
            js(_with({"input": {"path": 7}})),
            "refuse",
            r"input\.path must be text, got 7",
        ),
        "project-parameters-is-text": (
            js(_with({"parameters": "grid"})),
            "refuse",
            r"parameters must be a table",
        ),
        "project-parameter-of-the-wrong-type": (
            js(_with({"parameters": {"preprocess": {"dt_s": "0.01"}}})),
            "refuse",
            r"parameters\.preprocess\.dt_s must be a number",
        ),
        "project-parameter-group-is-a-number": (
            js(_with({"parameters": {"persistence": 3}})),
            "refuse",
            r"persistence must be a table of parameters",
        ),
        "project-bool-for-int": (
            js(_with({"parameters": {"point_cloud": {"n_points": True}}})),
            "refuse",
            r"point_cloud\.n_points must be a whole number",
        ),
        "project-pinned-garbage": (  # the file is named after the case: the message names it
            js(_with({"parameters": {"pinned": [["nowhere.at_all", 1]]}})),
            "refuse",
            r"project-pinned-garbage\.canns\.json: parameters: unknown parameter 'nowhere\.at_all'",
        ),
        "project-stages-is-a-dict": (
            js(_with({"stages_run": {"preprocess": True}})),
            "refuse",
            r"stages_run must be a list",
        ),
        "project-stage-is-a-number": (
            js(_with({"stages_run": [1]})),
            "refuse",
            r"stages_run\[0\] must be the name of a stage",
        ),
        "project-cache-is-a-list": (js(_with({"cache": ["x"]})), "refuse", r"cache must be a table"),
        "project-cache-key-path-traversal": (
            js(_with({"cache": {"keys": {"preprocess": "../../../etc/passwd"}}})),
            "refuse",
            r"cache\.keys\.preprocess must be a result key",
        ),
        "project-cache-folder-nul": (
            js(_with({"cache": {"folder": "/tmp/a\x00b"}})),
            "refuse",
            r"cache\.folder must be a file path",
        ),
        "project-views-is-text": (js(_with({"views": "FR"})), "refuse", r"views must be a table"),
        "project-view-unit-index-is-text": (
            js(_with({"views": {"unit_index": "2"}})),
            "refuse",
            r"views\.unit_index must be a whole number",
        ),
        "project-view-settings-out-of-range": (
            js(_with({"views": {"settings": {"grid_scores": {"n_shuffles": -1}}}})),
            "refuse",
            r"views\.settings\.grid_scores\.n_shuffles",
        ),
        "project-escape-sequence-in-a-value": (
            js(_with({"input": {"path": ["\x1b]0;owned\x07"]}})),
            "refuse",
            r"input\.path must be text, got \['\\x1b\]0;owned\\x07'\]",
        ),
        # numbers
        "project-coeff-mersenne-89": (
            js(_with({"parameters": {"persistence": {"coeff": 2**89 - 1}}})),
            "refuse",
            r"parameters\.persistence\.coeff is 618970019642690137449562111, too large",
        ),
        "project-coeff-mersenne-61": (  # a prime below 2^63: the declared bound refuses it before check()
            js(_with({"parameters": {"persistence": {"coeff": 2**61 - 1}}})),
            "refuse",
            r"parameters\.persistence\.coeff must be in \[2, 997\], got 2305843009213693951",
        ),
        "project-coeff-largest-prime": (
            js(_with({"parameters": {"persistence": {"coeff": 997}}})),
            "load",
            "",
        ),
        "project-coeff-composite": (
            js(_with({"parameters": {"persistence": {"coeff": 996}}})),
            "refuse",
            r"coeff must be a prime number",
        ),
        "project-dt-1e-7": (
            js(_with({"parameters": {"preprocess": {"dt_s": 1e-7}}})),
            "refuse",
            r"parameters\.preprocess\.dt_s must be in \[0\.0001, 1\] s, got 1e-07",
        ),
        "project-pinned-dt-1e-7": (
            js(_with({"parameters": {"pinned": [["preprocess.dt_s", 1e-7]]}})),
            "refuse",
            r"preprocess\.dt_s must be in \[0\.0001, 1\] s",
        ),
        "project-huge-int-in-a-float-field": (
            js(_with({"parameters": {"preprocess": {"dt_s": 10**400}}})),
            "refuse",
            r"parameters\.preprocess\.dt_s is a 401-digit number, too large",
        ),
        "project-int-of-5000-digits": (
            js(BASE)[:-1] + ', "n": ' + "9" * 5000 + "}",
            "refuse",
            r"a number thousands of digits long",
        ),
        "project-nan-parameter": (
            js(BASE).replace('"preset": "hd"', '"preset": "hd", "preprocess": {"sigma_s": NaN}'),
            "refuse",
            r"parameters\.preprocess\.sigma_s is nan, not a finite number",
        ),
        "project-infinity-in-views": (
            js(BASE).replace('"duration_s": 10.0', '"duration_s": Infinity'),
            "refuse",
            r"views\.tabs\.fr\.duration_s is inf, not a finite number",
        ),
        "project-overflowing-float": (
            js(BASE).replace('"unit_index": 2', '"unit_index": 1e999'),
            "refuse",
            r"views\.unit_index is inf",
        ),
        "project-view-number-too-large": (
            js(_with({"views": {"tabs": {"pathcompare": {"time_s": 1e300}}}})),
            "refuse",
            r"views\.tabs\.pathcompare\.time_s must be a number within",
        ),
        "project-view-int-beyond-32-bits": (
            js(_with({"views": {"tabs": {"fr": {"circle": 2**40}}}})),
            "refuse",
            r"views\.tabs\.fr\.circle must be a whole number",
        ),
        # structure
        "project-deep-nesting": (
            js(BASE)[:-1] + ', "deep": ' + deep + "}",
            "refuse",
            r"nested 100001 levels deep, more than a project file may be \(32\)",
        ),
        "project-deep-nesting-in-strings-is-text": (
            js(_with({"views": {"note": "[" * 100_000}})),
            "load",
            "",
        ),
        "project-top-level-list": ("[" + js(BASE) + "]", "refuse", r"not a canns-gui project file"),
        "project-other-format": (
            js(_with({"format": "something else"})),
            "refuse",
            r"not a canns-gui project",
        ),
        "project-truncated": (js(BASE)[: len(js(BASE)) // 2], "refuse", r"not a readable project file"),
        "project-empty": ("", "refuse", r"not a readable project file"),
    }
    return cases


def make_cases(folder: Path) -> list[HostileCase]:
    cases = []
    for name, (text, expect, match) in _texts().items():
        path = folder / f"{name}.canns.json"
        path.write_text(text, encoding="utf-8")
        cases.append(HostileCase(name, path, expect, match, entry="project"))
    path = folder / "project-50mb.canns.json"
    with open(path, "wb") as fh:  # a valid beginning, then 50 MiB (sparse): refused on its size, unread
        fh.write(b'{"format": "canns-gui project", "views": {"pad": "')
        fh.truncate(50 * MB)
    cases.append(
        HostileCase("project-50mb", path, "refuse", r"50\.0 MiB is too large for a project", "project")
    )
    path = folder / "project-not-utf8.canns.json"
    path.write_bytes(b'{"format": "canns-gui project", "x": "\xff\xfe"}')
    cases.append(HostileCase("project-not-utf8", path, "refuse", r"not UTF-8 text", "project"))
    path = folder / "project-bom.canns.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(BASE).encode())
    cases.append(HostileCase("project-utf8-bom", path, "load", "", "project"))
    return cases
