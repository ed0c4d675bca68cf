"""README "JavaScript and browsers": every ``js`` example runs as written against a real rig
(``wakebench run --board sim``, embedded mosquitto), over TCP and over WebSockets, and exits 0."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.js.rig import JS_DIR, LiveRig, node_or_skip, start_rig

pytestmark = pytest.mark.broker

README = Path(__file__).resolve().parents[2] / "README.md"
#: One example gets this long (s); each takes about a second on an idle machine.
EXAMPLE_TIMEOUT_S = 60


def js_examples() -> list[str]:
    section = README.read_text(encoding="utf-8").split("## JavaScript and browsers", 1)[1].split("\n## ", 1)[0]
    return [part.split("```", 1)[0] for part in section.split("```js\n")[1:]]


def test_the_section_has_an_example_per_facade() -> None:
    imports = "".join(js_examples())
    for facade in ("capacitor", "harmonyos", "ios", "uwp", "wp8", "android"):
        assert f"'@wakebench/client/{facade}'" in imports, facade


@pytest.fixture(scope="module", params=["tcp", "ws"])
def transport_rig(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        tuple[str, LiveRig]]:
    """A fresh rig per transport: an example run twice on one rig would meet its own first run
    (HarmonyOS's activity-group interval between two starts of an app's works, for one)."""
    node_or_skip()
    for rig in start_rig(tmp_path_factory.mktemp("readmerig"), f"jsreadme-{request.param}"):
        yield request.param, rig


@pytest.mark.parametrize("index", range(len(js_examples())))
def test_readme_example_runs(transport_rig: tuple[str, LiveRig], index: int) -> None:
    node = node_or_skip()
    code = js_examples()[index]
    transport, live_rig = transport_rig
    url = live_rig.tcp_url if transport == "tcp" else live_rig.ws_url
    # inside clients/js the package resolves its own name ("exports" self-reference)
    done = subprocess.run([node, "--input-type=module", "-e", code], cwd=JS_DIR, env=live_rig.env(url),
                          capture_output=True, text=True, timeout=EXAMPLE_TIMEOUT_S, check=False)
    assert done.returncode == 0 and not done.stderr, f"example {index} over {url}:\n{done.stdout}\n{done.stderr}"
