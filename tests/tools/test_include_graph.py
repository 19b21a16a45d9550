#!/usr/bin/env python3
"""test_include_graph - core/'s modules include each other without a cycle.

Runs tools/include-graph on core/ (exit 0, "no cycle"), and on a scratch
directory holding a two-module cycle, to show the check can fail (exit 1,
the cycle named).
"""

import os
import subprocess
import sys
import tempfile

SRC = os.environ.get("EHLOD_SRCDIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")
TOOL = os.path.join(SRC, "tools", "include-graph")


def run(d):
    p = subprocess.run([sys.executable, TOOL, d], capture_output=True,
                       text=True, timeout=60)
    return p.returncode, p.stdout


def main():
    rc, out = run(os.path.join(SRC, "core"))
    if rc != 0 or "no cycle" not in out:
        print(out)
        print("FAIL: core/ has an include cycle (rc=%d)" % rc)
        return 1
    # smtp_state.c must not see the front-ends it serves.
    line = [l for l in out.splitlines() if " smtp_state " in l]
    if not line or any(m in line[0].split("->")[1].split()
                       for m in ("commands", "session", "content")):
        print(out)
        print("FAIL: smtp_state depends on a front-end module")
        return 1
    with tempfile.TemporaryDirectory() as d:
        files = {
            "a.c": '#include "a.h"\n#include "b.h"\n',
            "a.h": "",
            "b.c": '#include "b.h"\n#include "a.h"\n',
            "b.h": "",
            "c.c": '#include "a.h"\n',
        }
        for name, text in files.items():
            with open(os.path.join(d, name), "w") as fh:
                fh.write(text)
        rc, out = run(d)
        if rc != 1 or "cycle: a b" not in out:
            print(out)
            print("FAIL: a known cycle was not reported (rc=%d)" % rc)
            return 1
    print("ok: core/ is layered; a planted cycle is caught")
    return 0


if __name__ == "__main__":
    sys.exit(main())
