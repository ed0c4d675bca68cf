"""``wakebench simulate SCENARIO.yaml [--json] [--plot PNG] [--html OUT] [--trace OUT] [--junit XML]``:
virtual time, exit 0 / 1 / 2."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from firmware_sim.errors import ScenarioError
from firmware_sim.scenario import load_scenario
from firmware_sim.signals import Signals
from firmware_sim.simulation import ResponseRecord, SimulationResult, simulate
from wakebench.timefmt import clock
from wakebench.timefmt import value_text as _fmt

EXIT_MET, EXIT_NOT_MET, EXIT_INVALID = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``simulate``."""
    parser.add_argument("scenario", metavar="SCENARIO.yaml", help="scenario file (see README, 'Scenario files')")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a timeline")
    parser.add_argument("--plot", metavar="PNG", help="draw signals, task bars and event markers to PNG")
    parser.add_argument("--html", metavar="OUT", help="write the interactive timeline as one self-contained HTML file")
    parser.add_argument("--trace", metavar="OUT", help="write Chrome Trace Event / Perfetto JSON")
    parser.add_argument("--junit", metavar="XML", help="write a JUnit XML report, one test case per expectation")


def run(args: argparse.Namespace) -> int:
    """Load, simulate, print; exit 0 when every expectation is met, 1 if not, 2 if the file is invalid."""
    try:
        scenario = load_scenario(args.scenario)
        result = simulate(scenario)
    except ScenarioError as exc:
        print(f"wakebench simulate: {exc}", file=sys.stderr)
        return EXIT_INVALID
    if args.json:
        json.dump(result.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print_timeline(result, sys.stdout)
    if args.junit:
        from wakebench.junit import write_junit

        try:
            write_junit(args.junit, scenario, result.expectations)
        except OSError as exc:
            print(f"wakebench simulate: cannot write {args.junit}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_INVALID
    if args.plot:
        from wakebench.plot import plot_timeline

        try:
            plot_timeline(result, args.plot)
        except OSError as exc:
            print(f"wakebench simulate: cannot write {args.plot}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_INVALID
        if not args.json:
            print(f"plot written to {args.plot}")
    if (args.html or args.trace) and not export(result, args):
        return EXIT_INVALID
    return EXIT_MET if result.passed else EXIT_NOT_MET


def export(result: SimulationResult, args: argparse.Namespace) -> bool:
    """``--html`` / ``--trace``; False (after one line on stderr) when a file cannot be written."""
    from wakebench.records import from_simulation
    from wakebench.timeline_export import write_outputs

    records = from_simulation(result)
    return write_outputs(records, html=args.html, trace=args.trace, title=result.scenario.name,
                         until=result.scenario.until, command="simulate", quiet=args.json)


def print_timeline(result: SimulationResult, out: TextIO) -> None:
    """The event timeline, interleaved with the steps that caused it, then the expectations."""
    sc = result.scenario
    out.write(
        f"{sc.name}\n  {sc.path} · seed {sc.seed} · {len(sc.apps)} app(s) · until {clock(sc.until)}\n\n"
    )
    table: list[list[str]] = []
    previous = sc.initial
    for entry in result.log:
        if isinstance(entry, ResponseRecord):
            if entry.verb == "register" and entry.status == "ok":
                continue
            status = "ok" if entry.status == "ok" else f"ERROR {entry.code}: {entry.error}"
            table.append([clock(entry.t), "", entry.app, f"→ {entry.verb}", "", status])
        elif isinstance(entry, Signals):
            shown, before = entry.effective(), previous.effective()  # unknown: never a number
            changes = ", ".join(
                f"{n}={'unknown' if n in shown.unknown else _fmt(getattr(shown, n))}"
                for n in entry.names()
                if getattr(shown, n) != getattr(before, n)
                or (n in shown.unknown) != (n in before.unknown)
            )
            previous = entry
            table.append([clock(entry.t), "signals", "", "", "", changes])
        else:
            detail = [entry.reason] if entry.reason else []
            if entry.type == "wake" and entry.deadline is not None:
                detail.append(f"until {clock(entry.deadline)}")
            table.append(
                [
                    clock(entry.t),
                    entry.type.upper(),
                    entry.app,
                    entry.task_id or "",
                    f"#{entry.seq}",
                    " ".join(detail),
                ]
            )
    headers = ["t", "event", "app", "task", "seq", "detail"]
    widths = [
        max(len(h), *(len(row[i]) for row in table)) if table else len(h) for i, h in enumerate(headers)
    ]
    out.write("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip() + "\n")
    for row in table:
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")
    out.write("\n")
    met = sum(r.met for r in result.expectations)
    out.write(f"expectations: {met}/{len(result.expectations)} met\n")
    for r in result.expectations:
        mark = "✔" if r.met else "✘"
        out.write(f"  {mark} line {r.expect.line}: {_describe(r.expect.raw)} — {r.detail}\n")
    if result.failures:
        out.write(f"steps: {len(result.failures)} failed\n")
        for f in result.failures:
            out.write(f"  ✘ {sc.path}:{f.line} at {clock(f.t)}: {f.message}\n")


def _describe(raw: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in raw.items())
