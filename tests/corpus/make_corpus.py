"""Regenerate the corpus of broken files (``python tests/corpus/make_corpus.py``).

Each file is one way a hand-edited or hostile file goes wrong (issue #11); ``tests/test_files.py``
feeds every one to the command that reads it and expects exit 2 with one line naming the file.
The files are checked in; this script documents how each was made.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
GOOD_SCENARIO = "apps:\n  - {id: mail, platform: wp8}\nsteps:\n  - {at: 0s, app: mail, request: add, args: {name: sync}}\nuntil: 1h\n"
GOOD_RIG = '[rig]\nid = "bench"\nboard = "sim"\n'
GOOD_BOARD = '[board]\nname = "mine"\nextends = "x120x"\n'


def bomb() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]")
    return "\n".join(lines) + "\n"


SCENARIOS: dict[str, bytes] = {
    "latin1.yaml": "name: café crème\n".encode("latin-1") + GOOD_SCENARIO.encode(),
    "cp1252-quotes.yaml": b"name: \x93quoted\x94\n" + GOOD_SCENARIO.encode(),
    "utf16-bom.yaml": ("name: x\n" + GOOD_SCENARIO).encode("utf-16"),
    "utf16le-no-bom.yaml": ("name: x\n" + GOOD_SCENARIO).encode("utf-16-le"),
    "binary.yaml": bytes(range(256)) * 4,
    "nul-on-line-3.yaml": b"name: x\nseed: 1\nboard: s\x00im\n",
    "deep-flow.yaml": b"name: x\nlimits: " + b"[" * 5000 + b"]" * 5000 + b"\n",
    "deep-block.yaml": "".join(f"{'  ' * i}k{i}:\n" for i in range(100)).encode() + b"  " * 100 + b"v\n",
    "deep-mapping-flow.yaml": b"x: " + b"{a: " * 3000 + b"1" + b"}" * 3000 + b"\n",
    "alias-bomb.yaml": bomb().encode(),
    "duplicate-key.yaml": GOOD_SCENARIO.encode() + b"until: 2h\n",
    "duplicate-key-nested.yaml": b"apps:\n  - {id: a, platform: wp8, platform: ios}\n",
    "python-tag.yaml": b"name: !!python/object/apply:os.system ['true']\n",
    "control-char.yaml": b"name: \x1b[31mred\n",
    "recursive-anchor.yaml": b"a: &x [*x]\n",
    "huge-number.yaml": GOOD_SCENARIO.replace("until: 1h", "until: " + "9" * 400).encode(),
    "huge-duration.yaml": GOOD_SCENARIO.replace("until: 1h", "until: 1" + "0" * 400 + "s").encode(),
    "not-a-mapping.yaml": b"- just\n- a list\n",
    "empty.yaml": b"",
    "only-a-comment.yaml": b"# nothing here\n",
    "tab-indent.yaml": b"apps:\n\t- {id: a}\n",
    "unclosed-quote.yaml": b'name: "never closed\n',
    "multi-document.yaml": GOOD_SCENARIO.encode() + b"---\n" + GOOD_SCENARIO.encode(),
}

RIGS: dict[str, bytes] = {
    "latin1.toml": '[rig]\nid = "bench"\nboard = "sim"\n# café\n'.encode("latin-1"),
    "utf16.toml": GOOD_RIG.encode("utf-16"),
    "nul.toml": b'[rig]\nid = "bench"\nboard = "s\x00im"\n',
    "binary.toml": bytes(range(256)) * 2,
    "deep-array.toml": b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n",
    "deep-inline-table.toml": b"x = " + b"{a = " * 3000 + b"1" + b"}" * 3000 + b"\n",
    "deep-dotted-key.toml": b"[rig]\nid = \"bench\"\n[x]\n" + b".".join([b"k"] * 200) + b" = 1\n",
    "duplicate-key.toml": b'[rig]\nid = "bench"\nid = "other"\n',
    "duplicate-table.toml": b'[rig]\nid = "bench"\n[rig]\nboard = "sim"\n',
    "syntax.toml": b'[rig\nid = "bench"\n',
    "password-dev-zero.toml": b'[broker]\nurl = "mqtt://127.0.0.1"\nusername = "rig"\npassword_file = "/dev/zero"\n',
    "password-binary.toml": b'[broker]\nurl = "mqtt://127.0.0.1"\nusername = "rig"\npassword_file = "tests/corpus/rig/binary.toml"\n',
    "password-directory.toml": b'[broker]\nurl = "mqtt://127.0.0.1"\nusername = "rig"\npassword_file = "/"\n',
    "ca-dev-zero.toml": b'[broker]\nurl = "mqtts://127.0.0.1"\nca_file = "/dev/zero"\n',
    "huge-integer.toml": b'[rig]\nid = "bench"\n[broker]\nkeepalive = ' + b"9" * 400 + b"\n",
}

BOARDS: dict[str, bytes] = {
    "latin1.toml": '[board]\nname = "mine"\nextends = "x120x"\nnote = "café"\n'.encode("latin-1"),
    "utf16.toml": GOOD_BOARD.encode("utf-16"),
    "nul.toml": b'[board]\nname = "mi\x00ne"\n',
    "deep-array.toml": b"[board]\nname = \"mine\"\nx = " + b"[" * 5000 + b"]" * 5000 + b"\n",
    "duplicate-key.toml": b'[board]\nname = "mine"\nname = "yours"\n',
    "syntax.toml": b"[board\n",
}


def main() -> None:
    for folder, files in (("scenario", SCENARIOS), ("rig", RIGS), ("board", BOARDS)):
        (HERE / folder).mkdir(exist_ok=True)
        for name, data in files.items():
            (HERE / folder / name).write_bytes(data)


if __name__ == "__main__":
    main()
