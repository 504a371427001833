#!/usr/bin/env python3
"""Every link between the docs lands: a relative link names a file of the repository, and its #anchor a heading
of that Markdown file (GitHub's rule: lower case, backticks and punctuation dropped, spaces as '-'). Headings are
renamed as the protocol grows (a route's parameters are in its heading), and a link left behind fails silently
for the reader; this makes it fail here.

Usage: doc_links.py REPO_ROOT
"""
import pathlib
import re
import sys

HEADING = re.compile(r"^(#+)\s+(.*?)\s*$")
LINK = re.compile(r"\]\(([^)\s#]*)(?:#([^)\s]+))?\)")
FENCE = re.compile(r"^```")


def slug(heading: str) -> str:
    text = heading.lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: pathlib.Path) -> set[str]:
    out, fenced = set(), False
    for line in path.read_text().splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced and (m := HEADING.match(line)):
            out.add(slug(m.group(2)))
    return out


def main(root: pathlib.Path) -> int:
    docs = [root / "README.md", *sorted((root / "docs").glob("**/*.md"))]
    known = {p.resolve(): anchors(p) for p in docs}
    problems = []
    for doc in docs:
        for number, line in enumerate(doc.read_text().splitlines(), 1):
            for m in LINK.finditer(line):
                target, anchor = m.group(1), m.group(2)
                if re.match(r"^[a-z]+:", target):
                    continue  # another scheme: nothing of ours
                path = (doc.parent / target).resolve() if target else doc.resolve()
                where = f"{doc.relative_to(root)}:{number}"
                if target and not path.exists():
                    problems.append(f"{where}: {target} does not exist")
                elif anchor and path in known and anchor not in known[path]:
                    problems.append(f"{where}: {target or doc.name} has no heading #{anchor}")
    for p in problems:
        print(p)
    print(f"{len(docs)} files read, {len(problems)} broken links")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(pathlib.Path(sys.argv[1])))
