"""benchlib - what the bench scripts share: finding the built tree and
the test harness (tests/interop/ehlodtest.py) that starts servers."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.dirname(HERE)


def setup_env(build=None):
    """Point the harness at the built tree (default ./build beside the
    sources, or $EHLOD_BUILDDIR) and return the ehlodtest module."""
    build = os.path.abspath(build or os.environ.get(
        "EHLOD_BUILDDIR", os.path.join(SRCDIR, "build")))
    binary = os.path.join(build, "core", "ehlod")
    if not os.access(binary, os.X_OK):
        sys.exit("bench: %s not built (use --build DIR)" % binary)
    os.environ.setdefault("EHLOD_BIN", binary)
    os.environ.setdefault("EHLOD_BUILDDIR", build)
    os.environ.setdefault("EHLOD_SRCDIR", SRCDIR)
    os.environ.setdefault("EHLOD_PLUGIN_DIR",
                          os.path.join(build, "plugins", ".libs"))
    os.environ.setdefault("EHLOD_TEST_PLUGIN_DIR",
                          os.path.join(build, "tests", "plugins", ".libs"))
    sys.path.insert(0, os.path.join(SRCDIR, "tests", "interop"))
    import ehlodtest
    return ehlodtest
