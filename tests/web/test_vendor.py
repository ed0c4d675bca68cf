"""The browser files the live view imports are vendored into the Python package
(``python -m wakebench.web.vendor_sync``) and current, and a built wheel ships them with the
pages, so ``pip install wakebench`` serves the live view with no Node and no build step."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from wakebench.web import vendor_sync

ROOT = Path(__file__).resolve().parents[2]


def test_the_vendored_files_match_clients_js_and_the_locked_mqtt_version() -> None:
    assert vendor_sync.stale() == [], "run: python -m wakebench.web.vendor_sync"
    assert vendor_sync.locked_mqtt_version() == (vendor_sync.VENDOR / "versions.json").read_text().split('"')[3]


def test_every_client_module_the_pages_import_is_vendored() -> None:
    client = {p.name for p in (ROOT / "clients" / "js" / "src").glob("*.js")}
    assert client == {p.name for p in (vendor_sync.VENDOR / "client").glob("*.js")}
    assert (vendor_sync.VENDOR / "mqtt.esm.js").stat().st_size > 100_000
    assert "MIT" in (vendor_sync.VENDOR / "mqtt.LICENSE.txt").read_text()


def test_check_names_a_stale_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    fake = tmp_path / "clients" / "js"
    (fake / "src").mkdir(parents=True)
    (fake / "src" / "client.js").write_text("// changed\n")
    (fake / "package-lock.json").write_text((ROOT / "clients/js/package-lock.json").read_text())
    monkeypatch.setattr(vendor_sync, "ROOT", tmp_path)
    assert vendor_sync.stale(tmp_path) == ["client/client.js"]
    assert vendor_sync.main(["--check"]) == 1
    assert "stale: wakebench/web/vendor/client/client.js" in capsys.readouterr().out


def test_a_built_wheel_ships_the_pages_and_the_vendored_files(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                           "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot build a wheel here: {done.stderr.strip()[-300:]}")
    wheel = next(tmp_path.glob("wakebench-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("live.html", "live.js", "live.css", "fleet.html", "fleet.js", "timeline.js", "timeline.css",
                 "vendor/mqtt.esm.js", "vendor/mqtt.LICENSE.txt", "vendor/client/client.js",
                 "vendor/client/random.js", "vendor/client/errors.js"):
        assert f"wakebench/web/{name}" in names, name
