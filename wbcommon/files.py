"""Bounded, strict reading of every file a user hands the bench.

A file on a lab bench can be anything: a scenario saved as UTF-16 by an editor, a TOML file
nested ten thousand deep, a YAML alias bomb, ``password_file = "/dev/zero"``. Every reader here
bounds what it takes (size, nesting depth, expanded YAML size), decodes strictly (UTF-8 only; a
UTF-8 byte-order mark is tolerated) and refuses duplicate keys, so a bad file can only ever
produce one :class:`FileFormatError` — one line naming file, line and field — never a
traceback, a hang or a full memory.

The limits are wakebench's own (no platform document governs them); each is set far above what
a hand-written file of its kind needs and far below what hurts a Raspberry Pi (≥ 512 MiB RAM).
"""

from __future__ import annotations

import json
import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Any, Final

import yaml

__all__ = [
    "MAX_CONFIG_BYTES",
    "MAX_DEPTH",
    "MAX_SCENARIO_BYTES",
    "MAX_SECRET_BYTES",
    "MAX_STATE_BYTES",
    "MAX_TLS_BYTES",
    "MAX_YAML_NODES",
    "FileFormatError",
    "check_regular_file",
    "compose_yaml",
    "load_json",
    "parse_toml",
    "read_first_line",
    "read_text",
]

#: Scenario YAML: the largest shipped scenario is ~3 KiB; 14 simulated days of one-minute steps
#: are ~1.5 MiB. wakebench bound.
MAX_SCENARIO_BYTES: Final = 4 * 1024 * 1024
#: rig.toml / board TOML: deploy/rig.toml is ~2 KiB. wakebench bound.
MAX_CONFIG_BYTES: Final = 256 * 1024
#: A password file: only its first line is used. wakebench bound.
MAX_SECRET_BYTES: Final = 4096
#: A PEM CA bundle (Debian's ca-certificates.crt is ~220 KiB), certificate or key. wakebench bound.
MAX_TLS_BYTES: Final = 1024 * 1024
#: The scheduler state file: ~200 bytes per task, 10,000 tasks ≈ 2 MiB. wakebench bound.
MAX_STATE_BYTES: Final = 64 * 1024 * 1024
#: Nesting of mappings/lists in any file. The deepest real structure (scenario → steps → step →
#: args → nested args) is 5; CPython's parsers recurse ~1000 deep before RecursionError.
MAX_DEPTH: Final = 32
#: YAML nodes after expanding aliases: a "billion laughs" bomb expands 9 aliases 9 levels deep
#: into 387 million nodes; a legitimate scenario has a few thousand. wakebench bound.
MAX_YAML_NODES: Final = 200_000

_UTF8_BOM: Final = b"\xef\xbb\xbf"
_UTF16_BOMS: Final = (b"\xff\xfe", b"\xfe\xff")
_TOML_LINE: Final = re.compile(r"at line (\d+)")


class FileFormatError(ValueError):
    """A file that cannot be used; ``str()`` is one line: ``file:line: field: reason``.

    Attributes:
        path: the file as the user named it.
        line: 1-based line of the problem, or None for the file as a whole.
        field: the key path (``broker.password_file``), or None.
        reason: what is wrong, one line.
    """

    def __init__(self, path: str | os.PathLike[str], reason: str, *, line: int | None = None,
                 field: str | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        self.reason = " ".join(reason.split())  # one line, whatever the cause said
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


def _read_bytes(path: str | os.PathLike[str], limit: int, field: str | None) -> bytes:
    """At most ``limit`` bytes of a regular file (``/dev/zero`` and FIFOs are refused or cut)."""
    try:
        with open(path, "rb") as fh:
            mode = os.fstat(fh.fileno()).st_mode
            if stat.S_ISDIR(mode):
                raise FileFormatError(path, "is a directory, not a file", field=field)
            data = fh.read(limit + 1)
    except FileFormatError:
        raise
    except OSError as exc:
        raise FileFormatError(path, f"cannot read the file ({exc.strerror or exc})", field=field) from None
    if len(data) > limit:
        raise FileFormatError(path, f"is larger than {limit:,} bytes (the limit for this kind of file)",
                              field=field)
    return data


def _decode(data: bytes, path: str | os.PathLike[str], field: str | None) -> str:
    if data.startswith(_UTF16_BOMS):
        raise FileFormatError(path, "is UTF-16 text; save it as UTF-8", line=1, field=field)
    nul = data.find(b"\x00")
    if nul >= 0:
        raise FileFormatError(path, "contains a NUL byte (a binary or UTF-16 file?); save it as UTF-8 text",
                              line=data.count(b"\n", 0, nul) + 1, field=field)
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FileFormatError(path, f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}; "
                              "Latin-1 or Windows-1252?); save it as UTF-8", line=line, field=field) from None


def read_text(path: str | os.PathLike[str], *, limit: int, field: str | None = None) -> str:
    """The whole file as text: at most ``limit`` bytes, strict UTF-8, no NUL bytes.

    Raises:
        FileFormatError: unreadable, too large, not UTF-8, or binary (with the line when known).
    """
    return _decode(_read_bytes(path, limit, field), path, field)


def read_first_line(path: str | os.PathLike[str], *, field: str, limit: int = MAX_SECRET_BYTES) -> str:
    """The first line of a small text file (a password file), without its line ending.

    Raises:
        FileFormatError: unreadable, larger than ``limit`` bytes, not UTF-8, or the first line empty.
    """
    lines = read_text(path, limit=limit, field=field).splitlines()
    if not lines or not lines[0]:
        raise FileFormatError(path, "is empty (the first line is the password)", line=1, field=field)
    return lines[0]


def check_regular_file(path: str | os.PathLike[str], *, field: str, limit: int = MAX_TLS_BYTES) -> None:
    """Check a file handed to another library (OpenSSL) is a readable regular file ≤ ``limit``.

    Raises:
        FileFormatError: missing, not a regular file (``/dev/zero``, a FIFO, a directory) or too large.
    """
    try:
        info = Path(path).stat()
    except OSError as exc:
        raise FileFormatError(path, f"cannot read the file ({exc.strerror or exc})", field=field) from None
    if not stat.S_ISREG(info.st_mode):
        raise FileFormatError(path, "is not a regular file", field=field)
    if info.st_size > limit:
        raise FileFormatError(path, f"is larger than {limit:,} bytes", field=field)


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of parsed data, stopping as soon as it exceeds ``limit``."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    deepest = 0
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def parse_toml(text: str, path: str | os.PathLike[str], *, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """TOML ``text`` parsed by :mod:`tomllib` (which refuses duplicate keys), depth-bounded.

    Raises:
        FileFormatError: syntax error or duplicate key (with tomllib's line), nesting deeper
            than ``max_depth``.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE.search(str(exc))
        raise FileFormatError(path, f"not valid TOML: {exc}", line=int(match.group(1)) if match else None,
                              field="(syntax)") from None
    except RecursionError:
        raise FileFormatError(path, f"nested deeper than {max_depth} levels", field="(syntax)") from None
    if _depth(data, max_depth) > max_depth:
        raise FileFormatError(path, f"nested deeper than {max_depth} levels", field="(syntax)")
    return data


class _BoundedComposer(yaml.SafeLoader):
    """PyYAML's safe loader with a nesting bound checked while composing (before recursion hurts)."""

    max_depth = MAX_DEPTH

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > self.max_depth:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise yaml.composer.ComposerError(None, None, f"nested deeper than {self.max_depth} levels", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _yaml_error(exc: yaml.YAMLError, path: str | os.PathLike[str]) -> FileFormatError:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return FileFormatError(path, f"not valid YAML: {problem}", line=mark.line + 1 if mark is not None else None)


def _check_graph(root: yaml.Node, path: str | os.PathLike[str], max_depth: int, max_nodes: int) -> None:
    """Refuse duplicate keys, and alias graphs that expand beyond ``max_depth`` / ``max_nodes``."""
    sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded nodes, height)
    open_: set[int] = set()  # nodes being walked: meeting one again is a recursive alias

    def walk(node: yaml.Node, depth: int) -> tuple[int, int]:
        known = sizes.get(id(node))
        if id(node) in open_:
            raise FileFormatError(path, "an alias refers to the node that contains it (recursive)",
                                  line=node.start_mark.line + 1)
        if known is not None:
            size, height = known
        else:
            open_.add(id(node))
            size, height = 1, 1
            if isinstance(node, yaml.MappingNode):
                seen: dict[Any, int] = {}
                for key, _value in node.value:
                    if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                        line = key.start_mark.line + 1
                        if key.value in seen:
                            raise FileFormatError(path, f"duplicate key (first on line {seen[key.value]})",
                                                  line=line, field=str(key.value)[:80])
                        seen[key.value] = line
                children = [n for pair in node.value for n in pair]
            elif isinstance(node, yaml.SequenceNode):
                children = list(node.value)
            else:
                children = []
            for child in children:
                child_size, child_height = walk(child, depth + 1)
                size += child_size
                height = max(height, child_height + 1)
                if size > max_nodes:
                    break
            sizes[id(node)] = (size, height)
            open_.discard(id(node))
        if depth + height - 1 > max_depth:
            raise FileFormatError(path, f"nested deeper than {max_depth} levels (aliases expanded)",
                                  line=node.start_mark.line + 1)
        if size > max_nodes:
            raise FileFormatError(path, f"expands to more than {max_nodes:,} values (an alias bomb?)",
                                  line=node.start_mark.line + 1)
        return size, height

    walk(root, 1)


def compose_yaml(text: str, path: str | os.PathLike[str], *, max_depth: int = MAX_DEPTH,
                 max_nodes: int = MAX_YAML_NODES) -> yaml.Node | None:
    """The YAML node tree of ``text`` (None when empty), checked before anything is built.

    Nesting is bounded while composing; duplicate mapping keys are refused (YAML 1.2 requires
    unique keys, PyYAML keeps the last silently); aliases may not expand beyond ``max_nodes``
    values or ``max_depth`` levels.

    Raises:
        FileFormatError: with the line of the problem.
    """
    try:
        loader = _BoundedComposer(text)  # the reader already refuses control characters
        loader.max_depth = max_depth
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, path) from None
    if node is not None:
        _check_graph(node, path, max_depth, max_nodes)
    return node


def load_json(path: str | os.PathLike[str], *, limit: int = MAX_STATE_BYTES,
              max_depth: int = MAX_DEPTH) -> Any:
    """A JSON document from a file: bounded, strict UTF-8, finite numbers only, depth-bounded.

    Raises:
        FileNotFoundError: the file does not exist (callers treat that as "nothing saved").
        FileFormatError: anything else wrong, with the line when known.
    """
    if not Path(path).exists():
        raise FileNotFoundError(path)
    text = read_text(path, limit=limit)

    def constant(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    try:
        data = json.loads(text, parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise FileFormatError(path, f"not valid JSON: {exc.msg}", line=exc.lineno) from None
    except (ValueError, RecursionError) as exc:
        raise FileFormatError(path, f"not valid JSON: {exc}" if isinstance(exc, ValueError)
                              else f"nested deeper than {max_depth} levels") from None
    if _depth(data, max_depth) > max_depth:
        raise FileFormatError(path, f"nested deeper than {max_depth} levels")
    return data
