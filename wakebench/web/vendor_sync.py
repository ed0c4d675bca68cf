"""Copy the browser files the live view imports into ``wakebench/web/vendor`` so that an
installed wheel serves them with no Node and no build step: MQTT.js's ESM browser build
(``clients/js/node_modules/mqtt/dist/mqtt.esm.js``, pinned by ``clients/js/package-lock.json``)
with its licence, and the JS client's sources (``clients/js/src/*.js``).

Run from a checkout after ``make venv`` (which runs ``npm ci``) whenever either changes::

    python -m wakebench.web.vendor_sync          # copy
    python -m wakebench.web.vendor_sync --check  # exit 1 naming each stale file

``tests/web/test_vendor.py`` fails while a vendored file differs from its source.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Final

#: The checkout this module sits in (``wakebench/web/vendor_sync.py`` → the repository root).
ROOT: Final = Path(__file__).resolve().parents[2]
VENDOR: Final = Path(__file__).resolve().parent / "vendor"
#: What the pages import, relative to clients/js → relative to vendor/.
MQTT_FILES: Final[dict[str, str]] = {
    "node_modules/mqtt/dist/mqtt.esm.js": "mqtt.esm.js",
    "node_modules/mqtt/LICENSE.md": "mqtt.LICENSE.txt",
}
#: The file recording the vendored MQTT.js version (checked against package-lock.json).
VERSIONS: Final = "versions.json"


def sources(root: Path | None = None) -> dict[Path, Path]:
    """Source file → vendored copy, for every vendored file."""
    js = (root or ROOT) / "clients" / "js"
    out = {js / src: VENDOR / dst for src, dst in MQTT_FILES.items()}
    for src in sorted((js / "src").glob("*.js")):
        out[src] = VENDOR / "client" / src.name
    return out


def locked_mqtt_version(root: Path | None = None) -> str:
    """The MQTT.js version clients/js/package-lock.json pins."""
    lock = json.loads(((root or ROOT) / "clients" / "js" / "package-lock.json").read_text(encoding="utf-8"))
    return str(lock["packages"]["node_modules/mqtt"]["version"])


def stale(root: Path | None = None) -> list[str]:
    """Vendored files that differ from (or lack) their source; sources that are absent (no
    ``npm ci`` yet) are skipped."""
    out = []
    for src, dst in sources(root).items():
        if src.is_file() and (not dst.is_file() or dst.read_bytes() != src.read_bytes()):
            out.append(str(dst.relative_to(VENDOR)))
    recorded = json.loads((VENDOR / VERSIONS).read_text(encoding="utf-8")) if (VENDOR / VERSIONS).is_file() else {}
    if recorded.get("mqtt") != locked_mqtt_version(root):
        out.append(VERSIONS)
    return out


def sync(root: Path | None = None) -> list[str]:
    """Copy every source over its vendored copy; returns what changed.

    Raises:
        FileNotFoundError: MQTT.js is not installed (run ``npm ci`` in clients/js).
    """
    missing = [str(src) for src in sources(root) if not src.is_file()]
    if missing:
        raise FileNotFoundError(f"{', '.join(missing)} missing: run `npm ci` in clients/js (make venv does)")
    changed = stale(root)
    for src, dst in sources(root).items():
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(src.read_bytes())
    (VENDOR / VERSIONS).write_text(json.dumps({"mqtt": locked_mqtt_version(root)}, indent=1) + "\n",
                                   encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wakebench.web.vendor_sync", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report stale files (exit 1 if any)")
    args = parser.parse_args(argv)
    try:
        changed = stale() if args.check else sync()
    except (OSError, KeyError, ValueError) as exc:
        print(f"vendor_sync: {exc}", file=sys.stderr)
        return 2
    for name in changed:
        print(f"{'stale' if args.check else 'updated'}: wakebench/web/vendor/{name}")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
