"""How the journal stores the scheduler state as rows, so that a batch rewrites only what it
changed (issue #8: 94x write amplification when one 10 KiB ``apps`` row and whole per-policy
dumps were rewritten by half the batches; SQLite writes every touched page whole).

Rows of the ``state`` table (key → compact JSON):

- ``core``: version, rig time, seed, ``lost_on_restart`` — everything but apps, seq, policies.
- ``apps``: the ids of every app with a row, registered apps first in registration order, then
  ids that only keep a ``seq`` counter.
- ``app:"<id>"`` (the id as a JSON string, so any id is unambiguous): ``{"app": {...},
  "seq": n}`` — the app as :meth:`App.to_dict` gives it and its event counter.
- ``policy:<name>``: the policy's *skeleton*, a list of ``[key, kind, data]`` in the dump's key
  order. kind 0: ``data`` is the value itself. kind 1: the value was a dict keyed by app id;
  ``data`` is its key order. kind 2: the value was a list of records each naming its ``app``;
  ``data`` is the app of each record, in order.
- ``app:"<id>":<policy>``: that app's share of the policy's kind 1 / kind 2 values.

An app's rows sort next to each other, so a batch for one app touches few pages. Reading
accepts the rows of journals written before this layout (``apps`` as a list of app objects,
``seq`` inside ``core``, ``policy:<name>`` as the whole dump): those are passed on as they are,
and whatever is wrong in them is reported by the loader's checks as before. A state whose apps
cannot be keyed (an app without a string id) is written in that older form too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = ["RowError", "RowSet", "app_key", "part_key"]

CORE: Final = "core"
APPS: Final = "apps"
POLICY: Final = "policy:"
_APP: Final = "app:"
#: skeleton kinds (see the module docstring)
PLAIN: Final = 0
BY_APP_KEY: Final = 1
BY_APP_RECORD: Final = 2
_DECODER: Final = json.JSONDecoder()
_MISSING: Final = object()


class RowError(ValueError):
    """A state row is not what the layout expects; ``key`` names it."""

    def __init__(self, key: str, what: str) -> None:
        super().__init__(f"state row {key!r} {what}")
        self.key = key


def app_key(app_id: str) -> str:
    """The row of an app (its object and ``seq``)."""
    return _APP + json.dumps(app_id)


def part_key(app_id: str, policy: str) -> str:
    """The row of an app's share of ``policy``'s state."""
    return f"{app_key(app_id)}:{policy}"


def text(obj: Any) -> str:
    """A row's JSON (keys sorted: equal values give equal text)."""
    return json.dumps(obj, separators=(",", ":"), sort_keys=True, default=str)


def _split_key(key: str) -> tuple[str, str | None] | None:
    """``app:"<id>"`` → (id, None); ``app:"<id>":<policy>`` → (id, policy); else None."""
    if not key.startswith(_APP):
        return None
    try:
        app, end = _DECODER.raw_decode(key, len(_APP))
    except ValueError:
        return None
    if not isinstance(app, str):
        return None
    rest = key[end:]
    if not rest:
        return app, None
    return (app, rest[1:]) if rest.startswith(":") else None


@dataclass
class Changes:
    """What one commit writes: rows to insert or replace, rows to delete, and the decoded values
    the row set remembers once the write succeeded."""

    upserts: dict[str, str] = field(default_factory=dict)
    deletes: set[str] = field(default_factory=set)
    seen: dict[str, Any] = field(default_factory=dict)
    forget: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.upserts or self.deletes)


class RowSet:
    """The state rows as stored (``text``: key → JSON), and what a commit must write.

    Args:
        rows: the ``state`` table as read at open.
    """

    def __init__(self, rows: Mapping[str, str]) -> None:
        self.text: dict[str, str] = dict(rows)
        #: key → the decoded value last written (cheap "unchanged?" checks before encoding)
        self._seen: dict[str, Any] = {}
        self._keys: dict[str, str] = {}
        self._decoded: dict[str, Any] = {}  # rows decoded during one assemble()
        self._app_rows: set[str] = set()
        self._parts: dict[str, set[str]] = {}
        for key in self.text:
            self._index(key, add=True)

    def _index(self, key: str, *, add: bool) -> None:
        split = _split_key(key)
        if split is None:
            return
        app, policy = split
        target = self._app_rows if policy is None else self._parts.setdefault(policy, set())
        if add:
            target.add(app)
        else:
            target.discard(app)

    def _part_key(self, app: str, policy: str) -> str:
        return f"{self._app_key(app)}:{policy}"

    def _app_key(self, app: str) -> str:
        key = self._keys.get(app)
        if key is None:
            key = self._keys[app] = app_key(app)
        return key

    # -- writing -----------------------------------------------------------------------------
    def changes(self, state: Mapping[str, Any], *, partial: bool) -> Changes:
        """The rows ``state`` changes (``partial``: its ``policies`` hold only those that may
        have changed; the others' rows stay)."""
        out = Changes()
        apps = state.get("apps", [])
        seq = state.get("seq", {})
        policies = state.get("policies")
        policies = policies if isinstance(policies, Mapping) else {}
        core = {k: v for k, v in state.items() if k not in ("apps", "policies", "seq")}
        ids = _app_ids(apps, seq)
        if ids is None:  # not keyable: the older whole-row form (the loader reports what is wrong)
            self._put(out, CORE, {**core, "seq": seq})
            self._put(out, APPS, apps)
            out.deletes.update(self._app_key(a) for a in self._app_rows)
            registered: set[str] = {a["id"] for a in apps if isinstance(a, Mapping) and isinstance(a.get("id"), str)} \
                if isinstance(apps, list) else set()
        else:
            self._put(out, CORE, core)
            self._put(out, APPS, ids, remember=True)
            registered = set()
            for app in apps:
                app_id = app["id"]
                registered.add(app_id)
                value = {"app": app, "seq": seq[app_id]} if app_id in seq else {"app": app}
                self._put(out, self._app_key(app_id), value, remember=True)
            for app_id, count in seq.items():
                if app_id not in registered:
                    self._put(out, self._app_key(app_id), {"seq": count}, remember=True)
            keep = set(ids)
            out.deletes.update(self._app_key(a) for a in self._app_rows if a not in keep)
        for name, dump in policies.items():
            self._policy(out, str(name), dump, registered)
        if not partial:
            for key in self.text:
                if key.startswith(POLICY) and key[len(POLICY):] not in policies:
                    self._drop_policy(out, key[len(POLICY):])
        return out

    def _policy(self, out: Changes, name: str, dump: Any, apps: set[str]) -> None:
        parts: dict[str, dict[str, Any]] = {}
        if not isinstance(dump, Mapping):
            self._put(out, POLICY + name, dump)  # not a policy dump: stored whole, reported on load
        else:
            skeleton: list[list[Any]] = []
            # plain dicts only (what policies dump): an ABC isinstance per record costs more
            for key, value in dump.items():
                if type(value) is dict and value and all(type(a) is str and a in apps for a in value):
                    skeleton.append([key, BY_APP_KEY, list(value)])
                    for app, item in value.items():
                        parts.setdefault(app, {})[key] = item
                elif type(value) is list and value and all(
                        type(r) is dict and type(r.get("app")) is str and r["app"] in apps for r in value):
                    skeleton.append([key, BY_APP_RECORD, [r["app"] for r in value]])
                    for record in value:
                        parts.setdefault(record["app"], {}).setdefault(key, []).append(record)
                else:
                    skeleton.append([key, PLAIN, value])
            self._put(out, POLICY + name, skeleton, remember=True)
            for app, part in parts.items():
                self._put(out, self._part_key(app, name), part, remember=True)
        out.deletes.update(self._part_key(a, name) for a in self._parts.get(name, ()) if a not in parts)

    def _drop_policy(self, out: Changes, name: str) -> None:
        out.deletes.add(POLICY + name)
        out.deletes.update(part_key(a, name) for a in self._parts.get(name, ()))

    def _put(self, out: Changes, key: str, value: Any, *, remember: bool = False) -> None:
        """Write ``key`` if ``value``'s JSON differs from the stored text. ``remember``: keep the
        decoded value to skip encoding next time it is equal (rows offered often and seldom
        changed: every app row on every commit, a dirty policy's skeleton and shares); not
        for ``core``, whose rig time changes on every commit."""
        if remember:
            seen = self._seen.get(key, _MISSING)
            if seen is not _MISSING and seen == value and key in self.text:
                return
        encoded = text(value)
        if self.text.get(key) != encoded:
            out.upserts[key] = encoded
        if remember:
            out.seen[key] = json.loads(encoded)  # plain data, shares nothing with the live state
        else:
            out.forget.add(key)  # a remembered value of this row is no longer what is stored

    def apply(self, changes: Changes) -> None:
        """``changes`` were written: remember them."""
        for key in changes.deletes:
            if key in changes.upserts:
                continue
            self.text.pop(key, None)
            self._seen.pop(key, None)
            self._index(key, add=False)
        for key, encoded in changes.upserts.items():
            self.text[key] = encoded
            self._index(key, add=True)
        for key in changes.forget:
            self._seen.pop(key, None)
        self._seen.update(changes.seen)

    # -- reading -----------------------------------------------------------------------------
    def assemble(self) -> dict[str, Any] | None:
        """The saved :meth:`Scheduler.dump`, or None if none was saved.

        Raises:
            RowError: a row is not valid JSON or not of the layout's shape (names the row).
        """
        if CORE not in self.text:
            return None
        self._decoded = {}
        try:
            return self._assemble()
        finally:
            self._decoded = {}

    def _assemble(self) -> dict[str, Any]:
        core = self._load(CORE)
        if not isinstance(core, dict):
            raise RowError(CORE, "is not an object")
        apps_row = self._load(APPS) if APPS in self.text else []
        seq: Any = {}
        apps: Any = apps_row
        if isinstance(apps_row, list) and all(isinstance(a, str) for a in apps_row):
            apps, seq = [], {}
            for app_id in apps_row:
                key = app_key(app_id)
                row = self._need(key)
                if not isinstance(row, dict):
                    raise RowError(key, "is not an object")
                if "app" in row:
                    apps.append(row["app"])
                if "seq" in row:
                    seq[app_id] = row["seq"]
        if "seq" in core:  # the older layout (or an edited journal): the loader checks it
            legacy = core.pop("seq")
            seq = {**seq, **legacy} if isinstance(legacy, dict) and isinstance(seq, dict) else legacy
        policies: dict[str, Any] = {}
        for key in self.text:
            if key.startswith(POLICY):
                name = key[len(POLICY):]
                value = self._load(key)
                policies[name] = self._join(name, key, value) if isinstance(value, list) else value
        return {**core, "apps": apps, "seq": seq, "policies": policies}

    def _join(self, name: str, key: str, skeleton: list[Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        used: dict[str, dict[str, int]] = {}
        for entry in skeleton:
            if not (isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], str)
                    and entry[1] in (PLAIN, BY_APP_KEY, BY_APP_RECORD)):
                raise RowError(key, f"has a malformed entry {str(entry)[:60]}")
            field_name, kind, data = entry
            if kind == PLAIN:
                out[field_name] = data
                continue
            if not (isinstance(data, list) and all(isinstance(a, str) for a in data)):
                raise RowError(key, f"lists no app ids for {field_name!r}")
            if kind == BY_APP_KEY:
                out[field_name] = {app: self._share(name, app, field_name, dict) for app in data}
                continue
            records = []
            for app in data:
                share = self._share(name, app, field_name, list)
                n = used.setdefault(app, {}).get(field_name, 0)
                if n >= len(share):
                    raise RowError(part_key(app, name), f"has fewer {field_name!r} records than {key!r} lists")
                records.append(share[n])
                used[app][field_name] = n + 1
            out[field_name] = records
        for app, counts in used.items():
            for field_name, n in counts.items():
                if n != len(self._share(name, app, field_name, list)):
                    raise RowError(part_key(app, name), f"has more {field_name!r} records than {key!r} lists")
        return out

    def _share(self, policy: str, app: str, field_name: str, kind: type) -> Any:
        key = part_key(app, policy)
        row = self._need(key)
        if not isinstance(row, dict) or field_name not in row:
            raise RowError(key, f"has no {field_name!r}")
        value = row[field_name]
        if kind is list and not isinstance(value, list):
            raise RowError(key, f"{field_name!r} is not a list")
        return value

    def _need(self, key: str) -> Any:
        if key not in self.text:
            raise RowError(key, "is missing")
        return self._load(key)

    def _load(self, key: str) -> Any:
        if key in self._decoded:
            return self._decoded[key]
        try:
            value = self._decoded[key] = json.loads(self.text[key])
        except (ValueError, RecursionError) as exc:
            raise RowError(key, f"is not valid JSON ({exc})") from exc
        return value


def _app_ids(apps: Any, seq: Any) -> list[str] | None:
    """Every app id with a row (registered first, then seq-only), or None if they cannot be
    keyed (the older layout is written)."""
    if not isinstance(apps, list) or not isinstance(seq, Mapping):
        return None
    ids: list[str] = []
    for app in apps:
        if not isinstance(app, Mapping) or not isinstance(app.get("id"), str):
            return None
        ids.append(app["id"])
    if len(set(ids)) != len(ids) or not all(isinstance(k, str) for k in seq):
        return None
    registered = set(ids)
    ids.extend(k for k in seq if k not in registered)
    return ids
