#!/usr/bin/env python3
"""test_proto_layout - proto/ is the one home of the SMTP grammar.

Checks the layout the build promises: no function bodies in
the headers of plugins/ and proto/ (no "static inline"), no libevent in
proto/, no unit test that includes a .c file, and every built plugin
exporting its descriptor only, although the hidden proto/ code is linked
into it (the dsn plugin holds dsn_parse_orcpt as a local symbol, which
shows the export check looks at the right files).
"""

import glob
import os
import re
import shutil
import subprocess
import sys

SRC = os.environ.get("EHLOD_SRCDIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")
PLUGINS = os.environ.get("EHLOD_PLUGIN_DIR") or os.path.join(
    os.environ.get("EHLOD_BUILDDIR", "."), "plugins", ".libs")


def grep(pattern, paths):
    rx = re.compile(pattern)
    hits = []
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                if rx.search(line):
                    hits.append("%s:%d: %s" % (path, n, line.rstrip()))
    return hits


def sources(*globs):
    return sorted(p for g in globs for p in glob.glob(os.path.join(SRC, g)))


def nm(path, *flags):
    p = subprocess.run(["nm", *flags, path], capture_output=True,
                       text=True, timeout=60, check=True)
    return [l.split() for l in p.stdout.splitlines() if l.strip()]


def main():
    failures = []
    failures += grep(r"static\s+inline", sources("plugins/*.h", "proto/*.h"))
    failures += grep(r"#\s*include\s*<event2/",
                     sources("proto/*.c", "proto/*.h"))
    failures += grep(r'#\s*include\s*"[^"]*\.c"', sources("tests/unit/*.c"))
    if shutil.which("nm") is None:
        failures.append("nm (binutils) is not installed")
    libs = sorted(glob.glob(os.path.join(PLUGINS, "*.so")))
    if len(libs) < 10:
        failures.append("only %d plugins in %s" % (len(libs), PLUGINS))
    for lib in libs if not failures else []:
        names = [f[-1] for f in nm(lib, "-D", "--defined-only")
                 if not f[-1].startswith("_")]
        if names != ["ehlod_plugin"]:
            failures.append("%s exports %s" % (lib, " ".join(names)))
    dsn = os.path.join(PLUGINS, "dsn.so")
    if not failures and not any(f[-2:] == ["t", "dsn_parse_orcpt"]
                                for f in nm(dsn)):
        failures.append("%s holds no local dsn_parse_orcpt" % dsn)
    for f in failures:
        print("FAIL: " + f)
    if not failures:
        print("ok: %d plugins export only ehlod_plugin" % len(libs))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
