#!/usr/bin/env python3
"""Checks which way the source folders depend on each other, from their #include "..." lines.

Dependencies point down: core/ at the bottom, backplanes/ and security/ on it, http/ and write_path/ above,
http2/ and proxy/ on http/, transports/ and ops/ on top, server.cpp and server_context.* assembling everything. Channels, their transports and
the write path see the server through channel_services.hpp ("services"), never the whole server_context ("top").
A folder may include only the folders its rule names; a transport never includes another transport. Upward
dependencies that are still there would be listed by file in KNOWN, each a seam to cut; this test fails when
one of them is gone too, so that the list only shrinks.

Usage: dependency_direction.py REPO_ROOT
"""
import pathlib
import re
import sys

# What each folder may include ("services": src/channel_services.hpp; "top": src/server_context.hpp and the other
# files at src/'s top level).
ALLOWED = {
    "src/core": {"core"},
    "src/backplanes": {"core", "backplanes"},
    "src/security": {"core", "security"},
    "src/http": {"core", "security", "http", "services", "top"},
    "src/write_path": {"core", "http", "write_path", "services"},
    "src/ops": {"core", "http", "ops", "services", "top"},
    "src/http2": {"core", "security", "http", "http2", "write_path", "top"},  # on http/: a stream is an exchange
    "src/proxy": {"core", "http", "proxy"},  # the hooks over HTTP: an HTTP client, beside the server
}
TRANSPORT_ALLOWED = {"core", "security", "http", "write_path", "services"}
TRANSPORTS = ("websocket", "sse", "long_polling")

# Upward includes still in the code, each with the seam that will remove it (none left: issue 14 cut them).
KNOWN: set[tuple[str, str]] = set()

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def folder_of(target: str, own_folder: str, root: pathlib.Path) -> str:
    head, _, rest = target.partition("/")
    if not rest:
        # A transport includes its own headers by name; a name at src/'s top level is the server's.
        if not own_folder.startswith("src") and not (root / "src" / target).exists():
            return "local"
        return "services" if head == "channel_services.hpp" else "top"
    return head


def main(root: pathlib.Path) -> int:
    problems, seen_known = [], set()
    files = [p for p in root.glob("src/**/*") if p.suffix in (".cpp", ".hpp")]
    files += [p for p in root.glob("transports/**/*") if p.suffix in (".cpp", ".hpp")]
    for path in sorted(files):
        rel = path.relative_to(root).as_posix()
        parts = rel.split("/")
        if parts[0] == "src" and len(parts) == 2:
            continue  # the assembly at the top sees everything
        if parts[0] == "src" and parts[1] == "client":
            continue
        if parts[0] == "src":
            rule_key = "src/" + parts[1]
            allowed = ALLOWED.get(rule_key)
            if allowed is None:
                problems.append(f"{rel}: src/{parts[1]}/ is a folder with no rule here")
                continue
        else:
            own = parts[1]
            allowed = TRANSPORT_ALLOWED | {own}
        for target in INCLUDE.findall(path.read_text()):
            if target.startswith("support/"):
                continue
            folder = folder_of(target, rel, root)
            if folder == "local":
                continue  # a transport's own header, included by name
            if (rel, target) in KNOWN:
                seen_known.add((rel, target))
                continue
            if folder in TRANSPORTS and folder not in allowed:
                problems.append(f"{rel}: includes {target}: a transport only reaches another through the hub")
            elif folder not in allowed:
                problems.append(f"{rel}: includes {target}: {parts[0]}/{parts[1]}/ may include only "
                                f"{', '.join(sorted(allowed))}")
    for rel, target in sorted(KNOWN - seen_known):
        problems.append(f"{rel} no longer includes {target}: take it off KNOWN in {pathlib.Path(__file__).name}")
    for p in problems:
        print(p)
    print(f"{len(files)} files checked, {len(problems)} problems, {len(seen_known)} known upward includes left")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")))
