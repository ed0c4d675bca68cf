"""docs/sources.md covers every source document `budgets` cites; `--help` cites no file outside
the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wakebench.cli import COMMANDS, build_parser
from wakebench.commands.budgets import all_limits

DOCS = Path(__file__).resolve().parents[2] / "docs" / "sources.md"
#: Files that are not in the repository, which user-facing text must not send anyone to.
OUTSIDE = ("DESIGN.md", "shared/seeds", "reference/pi-hardware.md", "/work/")


def test_every_cited_source_document_is_summarised_with_a_public_url() -> None:
    text = DOCS.read_text(encoding="utf-8")
    cited = {m for info in all_limits() for m in re.findall(r"seed \d{3}", info.source)}
    assert cited == {"seed 000", "seed 001", "seed 002", "seed 003", "seed 004"}
    for seed in cited:
        row = next(line for line in text.splitlines() if line.startswith(f"| {seed} |"))
        assert "https://" in row, seed


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_cites_no_file_outside_the_repository(command: str | None, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args([command, "--help"] if command else ["--help"])
    out = capsys.readouterr().out
    for name in OUTSIDE:
        assert name not in out, (command, name)


ROOT = DOCS.parents[1]
#: ``[text](target)`` links in Markdown
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def _relative_links(page: Path) -> list[str]:
    return [t.split("#", 1)[0] for t in _LINK.findall(page.read_text(encoding="utf-8"))
            if not re.match(r"[a-z]+:", t) and not t.startswith("#")]


def test_every_relative_link_in_readme_and_docs_names_a_file_of_the_repository() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for page in pages:
        for target in _relative_links(page):
            assert (page.parent / target).exists(), f"{page.relative_to(ROOT)}: {target}"


def test_every_docs_page_is_linked_from_the_readme() -> None:
    linked = {Path(t).name for t in _relative_links(ROOT / "README.md")}
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert page.name in linked, f"docs/{page.name} is not linked from README.md"
