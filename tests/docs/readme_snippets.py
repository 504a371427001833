#!/usr/bin/env python3
"""The README's code that comes from an example is the example's code, so it cannot drift from what compiles.

A ```cpp block in README.md whose section names an example as its source ("From [`examples/.../main.cpp`]") must
equal the parts of that file marked `// readme-snippet: begin` ... `// readme-snippet: end`, each dedented, in
order. A begin marker may carry a line to show first (`// readme-snippet: begin // ... from any thread:`); text
in parentheses after it is a note for the reader of the example.

Usage: readme_snippets.py REPO_ROOT [--write]   (--write puts the examples' parts into README.md)
"""
import pathlib
import re
import sys
import textwrap

MARK = re.compile(r"^\s*// readme-snippet: (begin|end)\s*(.*)$")
SOURCE = re.compile(r"From \[`(examples/[^`]+\.cpp)`\]")
BLOCK = re.compile(r"```cpp\n(.*?)```", re.S)


def snippet(example: pathlib.Path) -> str:
    parts, current = [], None
    for number, line in enumerate(example.read_text().splitlines(), 1):
        mark = MARK.match(line)
        if not mark:
            if current is not None:
                current.append(line)
            continue
        if mark.group(1) == "begin":
            if current is not None:
                raise SystemExit(f"{example}:{number}: begin inside a marked part")
            shown = mark.group(2)
            current = [" " * (len(line) - len(line.lstrip())) + shown] if shown.startswith("//") else []
        else:
            if current is None:
                raise SystemExit(f"{example}:{number}: end without a begin")
            parts.append(textwrap.dedent("\n".join(current)).strip("\n"))
            current = None
    if current is not None:
        raise SystemExit(f"{example}: a marked part never ends")
    return "\n".join(parts) + "\n"


def main(root: pathlib.Path, write: bool) -> int:
    readme_path = root / "README.md"
    readme = readme_path.read_text()
    problems, checked, out, at = [], 0, [], 0
    for block in BLOCK.finditer(readme):
        section = readme[readme.rfind("\n## ", 0, block.start()):block.start()]
        source = SOURCE.search(section)
        if not source:
            continue
        checked += 1
        want = snippet(root / source.group(1))
        if block.group(1) != want:
            problems.append(f"README.md: the block from {source.group(1)} differs from its marked parts")
        out.append(readme[at:block.start(1)] + want)
        at = block.end(1)
    out.append(readme[at:])
    if write:
        readme_path.write_text("".join(out))
        problems = []
    for p in problems:
        print(p)
    print(f"{checked} README blocks from examples checked, {len(problems)} differ"
          + ("" if write or not problems else "; run with --write to take the examples' code"))
    return 1 if problems or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "."), "--write" in sys.argv))
