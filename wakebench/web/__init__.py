"""The timeline renderer's static files (``timeline.js``, ``timeline.css``, ``timeline.html``) and
:func:`write_html`, which inlines them with the data into ONE self-contained file (no network, no
build step). The live web view serves the same ``timeline.js`` as an ES module."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["render_html", "static_text", "write_html"]

_EXPORT = re.compile(r"^export (?=(const|class|function) )", re.MULTILINE)


def static_text(name: str) -> str:
    """One shipped static file (``timeline.js`` ...) as text."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _inline_js() -> str:
    # The module's `export` keywords dropped, wrapped in a function: a classic script that works
    # from file:// (ES module imports are blocked there) and sets globalThis.WakebenchTimeline.
    return "(() => {\n\"use strict\";\n" + _EXPORT.sub("", static_text("timeline.js")) + "\n})();"


def _safe(text: str) -> str:
    # nothing inside a <script> element may close it
    return text.replace("</", "<\\/")


def render_html(records: Sequence[dict[str, Any]], *, title: str, until: float | None = None) -> str:
    """The self-contained page for ``records`` (see :mod:`wakebench.records`)."""
    data = json.dumps({"title": title, "until": until, "records": list(records)}, separators=(",", ":"),
                      default=str)
    page = static_text("timeline.html")
    escaped_title = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    parts = {"title": escaped_title, "css": static_text("timeline.css"), "data": _safe(data),
             "js": _safe(_inline_js())}
    return re.sub(r"\{\{(title|css|data|js)\}\}", lambda m: parts[m.group(1)], page)


def write_html(records: Sequence[dict[str, Any]], path: str | Path, *, title: str,
               until: float | None = None) -> None:
    """Write :func:`render_html` to ``path``.

    Raises:
        OSError: the file cannot be written.
    """
    Path(path).write_text(render_html(records, title=title, until=until), encoding="utf-8")
