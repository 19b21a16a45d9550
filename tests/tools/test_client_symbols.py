#!/usr/bin/env python3
"""test_client_symbols - libehlod-client exports every 1.0 function.

The built library's dynamic symbols (nm -D --defined-only) must include
every name in api/abi/ehlod-client-1.0.syms, the functions of 1.0, and
nothing that does not begin with ehlod_client_ (the library links the
client's grammar modules, which must stay private).  .ci/abi checks the
types and signatures; this checks that the functions are there.  A
function added later is appended to neither list: only removal breaks
programs built against 1.0.
"""

import os
import subprocess
import sys

SRC = os.environ.get("EHLOD_SRCDIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")
BUILD = os.environ.get("EHLOD_BUILDDIR") or os.getcwd()
LIB = os.path.join(BUILD, "client", ".libs", "libehlod-client.so")
RECORD = os.path.join(SRC, "api", "abi", "ehlod-client-1.0.syms")


def exported(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib],
                         capture_output=True, text=True, check=True).stdout
    return {f[2] for f in (l.split() for l in out.splitlines())
            if len(f) == 3 and f[1] in "TWDBR"}


def main():
    if not os.path.exists(LIB):
        print("skipped: %s is not built" % LIB)
        return 77
    have = exported(LIB)
    want = {l.strip() for l in open(RECORD) if l.strip()}
    missing = sorted(want - have)
    foreign = sorted(s for s in have if not s.startswith("ehlod_client_"))
    if missing:
        print("FAIL: 1.0 functions no longer exported: %s" % missing)
    if foreign:
        print("FAIL: exported beyond ehlod_client_*: %s" % foreign)
    if missing or foreign:
        return 1
    print("ok: %d of the 1.0 functions exported, nothing else" % len(want))
    return 0


if __name__ == "__main__":
    sys.exit(main())
