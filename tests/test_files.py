"""Every file the bench reads, however broken, gives exit 2 and ONE line naming the file (issue #11).

The checked-in corpus (``tests/corpus/``, made by ``make_corpus.py``) holds one file per way a
file goes wrong: other encodings, binary, NUL bytes, nesting thousands deep, an alias bomb,
duplicate keys, ``/dev/zero`` as a password or CA file. Each goes through the command a user
would run. Hypothesis then throws arbitrary bytes at the same readers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boards import BoardConfigError, load_board_file
from firmware_sim.errors import ScenarioError
from firmware_sim.scenario import parse_scenario
from wakebench.cli import main
from wbcommon import files

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus"


def _one_line(err: str, path: Path) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert str(path) in lines[0] or path.name in lines[0], lines[0]
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("path", sorted((CORPUS / "scenario").iterdir()), ids=lambda p: p.name)
def test_every_broken_scenario_exits_2_with_one_line(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", str(path)]) == 2
    _one_line(capsys.readouterr().err, path)


@pytest.mark.parametrize("path", sorted((CORPUS / "rig").iterdir()), ids=lambda p: p.name)
def test_every_broken_rig_config_exits_2_with_one_line(
    path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)  # password-binary.toml names a corpus file relative to the checkout
    assert main(["run", "--config", str(path), "--check"]) == 2
    _one_line(capsys.readouterr().err, path)


@pytest.mark.parametrize("path", sorted((CORPUS / "board").iterdir()), ids=lambda p: p.name)
def test_every_broken_board_file_is_one_board_config_error(path: Path) -> None:
    with pytest.raises(BoardConfigError) as info:
        load_board_file(path)
    assert "\n" not in str(info.value)
    assert info.value.source == str(path)


@pytest.mark.parametrize(("name", "line", "fragment"), [
    ("nul-on-line-3.yaml", 3, "NUL byte"),
    ("latin1.yaml", 1, "not UTF-8"),
    ("utf16-bom.yaml", 1, "UTF-16"),
    ("duplicate-key.yaml", 6, "field 'until': duplicate key (first on line 5)"),
    ("duplicate-key-nested.yaml", 2, "duplicate key"),
    ("alias-bomb.yaml", None, "alias bomb"),
    ("deep-flow.yaml", 2, f"nested deeper than {files.MAX_DEPTH} levels"),
    ("huge-duration.yaml", None, "longer than 64 characters"),
])
def test_scenario_errors_name_the_line(name: str, line: int | None, fragment: str) -> None:
    with pytest.raises(ScenarioError) as info:
        from firmware_sim.scenario import load_scenario
        load_scenario(CORPUS / "scenario" / name)
    if line is not None:
        assert info.value.line == line, str(info.value)
    assert fragment in str(info.value)


def test_the_limits_are_as_documented() -> None:
    """wbcommon.files: scenario 4 MiB, config 256 KiB, secret 4 KiB, TLS 1 MiB, depth 32, 200,000 nodes."""
    assert files.MAX_SCENARIO_BYTES == 4 * 1024 * 1024
    assert files.MAX_CONFIG_BYTES == 256 * 1024
    assert files.MAX_SECRET_BYTES == 4096
    assert files.MAX_TLS_BYTES == 1024 * 1024
    assert files.MAX_STATE_BYTES == 64 * 1024 * 1024
    assert files.MAX_DEPTH == 32
    assert files.MAX_YAML_NODES == 200_000


def test_a_file_over_the_limit_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# " + b"x" * files.MAX_SCENARIO_BYTES + b"\n")
    with pytest.raises(files.FileFormatError, match="larger than 4,194,304 bytes"):
        files.read_text(big, limit=files.MAX_SCENARIO_BYTES)
    with pytest.raises(files.FileFormatError, match="larger than 4,096 bytes"):
        files.read_first_line("/dev/zero", field="broker.password_file")


def test_depth_and_alias_bounds_hold_at_their_edges() -> None:
    ok = "x: " + "[" * (files.MAX_DEPTH - 1) + "]" * (files.MAX_DEPTH - 1)
    assert files.compose_yaml(ok, "f") is not None
    deeper = "x: " + "[" * files.MAX_DEPTH + "]" * files.MAX_DEPTH
    with pytest.raises(files.FileFormatError, match="nested deeper"):
        files.compose_yaml(deeper, "f")
    # anchors are fine while they expand to little
    assert files.compose_yaml("a: &a {k: 1}\nb: *a\nc: *a\n", "f") is not None
    # aliases that stack depth are counted expanded
    chain = "a0: &a0 [[[[[[[[1]]]]]]]]\n" + "".join(
        f"a{i}: &a{i} [[[[[[[[*a{i - 1}]]]]]]]]\n" for i in range(1, 5))
    with pytest.raises(files.FileFormatError, match="aliases expanded"):
        files.compose_yaml(chain, "f")


def test_toml_duplicates_are_refused_by_tomllib() -> None:
    with pytest.raises(files.FileFormatError, match="line 3") as info:
        files.parse_toml('[rig]\nid = "a"\nid = "b"\n', "rig.toml")
    assert info.value.line == 3 and info.value.field == "(syntax)"


def test_a_utf8_byte_order_mark_is_tolerated(tmp_path: Path) -> None:
    f = tmp_path / "bom.yaml"
    f.write_bytes(b"\xef\xbb\xbfname: x\n")
    assert files.read_text(f, limit=100) == "name: x\n"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=400) | st.text(max_size=300).map(str.encode))
def test_any_bytes_as_a_scenario_or_toml_give_one_line_errors(tmp_path_factory: pytest.TempPathFactory,
                                                             data: bytes) -> None:
    path = tmp_path_factory.mktemp("f") / "x"
    path.write_bytes(data)
    try:
        text = files.read_text(path, limit=files.MAX_CONFIG_BYTES)
    except files.FileFormatError as exc:
        assert "\n" not in str(exc)
        return
    try:
        parse_scenario(text, str(path))
    except ScenarioError as exc:
        assert "\n" not in str(exc).strip()
    try:
        files.parse_toml(text, str(path))
    except files.FileFormatError as exc:
        assert "\n" not in str(exc)
