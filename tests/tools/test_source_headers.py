#!/usr/bin/env python3
"""test_source_headers - the tree's hygiene rules (HACKING.md, Style)

Fails, listing every offender, when:
  - a C source file (.c, .h) of core/ proto/ plugins/ client/ milter/
    api/ tools/ tests/unit/ tests/plugins/ bench/ fuzz/ does not open with
    a comment saying what it is for (a few words at least);
  - a file that a manual page documents (HACKING.md, MAN_OWNERS below and
    plugins/NAME.c for docs/ehlod-plugin-NAME.5) does not name that page
    in its opening comment, or a page in docs/ has no such file;
  - two C source files share a base name in different directories;
  - any file of the tree refers to the bug database by number ("issue"
    followed by a number, a number after '#', the word for the database).

Files are those git knows or would add (tracked, and untracked but not
ignored) in a git checkout, else (a release
tarball, make distcheck) the files under the source directories and the
top-level text files, so the autotools' generated files are not read.
"""

import os
import re
import subprocess
import sys

SRC = os.path.realpath(os.environ.get("EHLOD_SRCDIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", ".."))

C_DIRS = ("core/", "proto/", "plugins/", "client/", "milter/", "api/",
          "tools/", "tests/unit/", "tests/plugins/", "bench/", "fuzz/")
TREE_DIRS = C_DIRS + ("docs/", "tests/", "etc/", "examples/", ".ci/")
TOP_FILES = ("Makefile.am", "configure.ac", "autogen.sh", "README.md",
             "HACKING.md", "NEWS")

# The file whose opening comment must point to each manual page that is
# not a plugin's (plugins/NAME.c owns docs/ehlod-plugin-NAME.5).
MAN_OWNERS = {
    "ehlod(8)": "core/main.c",
    "ehlod.conf(5)": "core/config.c",
    "ehlod-milter(8)": "milter/milter_main.c",
    "ehlod-send(1)": "client/ehlod-send.c",
    "ehlod-client(3)": "api/ehlod/client.h",
    "ehlod-plugin(3)": "api/ehlod/plugin.h",
}

# Put together so that this file does not match its own patterns.
TRACKER = re.compile("|".join([
    r"\b[Ii]ssues?[ #]*[0-9]",
    r"(?:^|[\s(\[])#[0-9]+\b",
    r"\b[Tt]rack" + r"er\b",
    r"\b[Bb]ug[ #]*[0-9]",
]))


def tree_files():
    try:
        top = subprocess.run(["git", "-C", SRC, "rev-parse",
                              "--show-toplevel"], capture_output=True,
                             text=True, timeout=60)
        if top.returncode == 0 and \
                os.path.realpath(top.stdout.strip()) == SRC:
            out = subprocess.run(["git", "-C", SRC, "ls-files", "-z",
                                  "--cached", "--others",
                                  "--exclude-standard"],
                                 capture_output=True, text=True,
                                 timeout=60, check=True).stdout
            return sorted(set(f for f in out.split("\0") if f and
                              os.path.isfile(os.path.join(SRC, f))))
    except (OSError, subprocess.SubprocessError):
        pass
    files = [f for f in TOP_FILES if os.path.isfile(os.path.join(SRC, f))]
    for d in TREE_DIRS:
        for root, dirs, names in os.walk(os.path.join(SRC, d)):
            dirs[:] = [x for x in dirs if not x.startswith(".") or
                       x == ".ci"]
            dirs[:] = [x for x in dirs if x not in (".deps", ".libs")]
            for n in names:
                rel = os.path.relpath(os.path.join(root, n), SRC)
                if not n.endswith((".o", ".lo", ".la", ".so", ".Po")):
                    files.append(rel)
    return sorted(set(files))


def read(rel):
    with open(os.path.join(SRC, rel), "rb") as fh:
        data = fh.read()
    if b"\0" in data:
        return None        # a binary file (fuzz seeds) says nothing
    return data.decode("utf-8", errors="replace")


def opening_comment(text):
    """The first comment when the file starts with one, else None."""
    body = text.lstrip()
    if body.startswith("/*"):
        end = body.find("*/")
        return body[2:end] if end > 0 else None
    if body.startswith("//"):
        lines = []
        for line in body.splitlines():
            if not line.startswith("//"):
                break
            lines.append(line[2:])
        return "\n".join(lines)
    return None


def c_sources(files):
    return [f for f in files if f.startswith(C_DIRS) and
            f.endswith((".c", ".h"))]


def check_headers(files):
    bad = []
    for f in c_sources(files):
        comment = opening_comment(read(f) or "")
        if comment is None:
            bad.append("%s: does not open with a comment saying what it "
                       "is for" % f)
        elif len(re.findall(r"[A-Za-z]{2,}", comment)) < 4:
            bad.append("%s: its opening comment says too little" % f)
    return bad


def man_owners(files):
    owners = dict(MAN_OWNERS)
    for f in files:
        m = re.fullmatch(r"docs/ehlod-plugin-(.+)\.5", f)
        if m:
            owners["ehlod-plugin-%s(5)" % m.group(1)] = \
                "plugins/%s.c" % m.group(1)
    return owners


def check_man_pointers(files):
    bad = []
    owners = man_owners(files)
    for f in files:
        m = re.fullmatch(r"docs/([a-z.-]+)\.([1358])(\.in)?", f)
        if m and "%s(%s)" % (m.group(1), m.group(2)) not in owners:
            bad.append("%s: no source file is named as its owner in %s" %
                       (f, os.path.basename(__file__)))
    for page, owner in sorted(owners.items()):
        if owner not in files:
            bad.append("%s: missing (it should point to %s)" % (owner, page))
            continue
        comment = opening_comment(read(owner) or "") or ""
        if page not in comment:
            bad.append("%s: its opening comment does not name %s" %
                       (owner, page))
    return bad


def check_unique_names(files):
    seen = {}
    for f in c_sources(files):
        seen.setdefault(os.path.basename(f), []).append(f)
    return ["same file name: %s" % ", ".join(v)
            for k, v in sorted(seen.items()) if len(v) > 1]


def check_tracker_words(files):
    bad = []
    for f in files:
        text = read(f)
        if text is None:
            continue
        for n, line in enumerate(text.splitlines(), 1):
            if TRACKER.search(line):
                bad.append("%s:%d: %s" % (f, n, line.strip()[:100]))
    return bad


def main():
    files = tree_files()
    if len(c_sources(files)) < 100:
        print("only %d C files found under %s" % (len(c_sources(files)),
                                                  SRC))
        return 1
    failures = (check_headers(files) + check_man_pointers(files) +
                check_unique_names(files) + check_tracker_words(files))
    for f in failures:
        print(f)
    if failures:
        return 1
    print("%d files read, %d C files with opening comments and unique "
          "names, %d manual pages pointed to" %
          (len(files), len(c_sources(files)), len(man_owners(files))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
