"""Every code example in ehlod-plugin(3) compiles without a warning.

Each .EX/.EE block of docs/ehlod-plugin.3 is a complete C file.  The test
takes them out (undoing the roff escapes), and compiles each as the page's
BUILDING section tells an author to: -std=c11 -Wall -Wextra, hidden
visibility, -shared -Wl,-z,defs, against the source tree's api/.  Any
compiler output, or a failed build, fails the test.
"""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

from ehlodtest import EhlodTestCase, env_path, main

FLAGS = ["-std=c11", "-Wall", "-Wextra", "-O2", "-fvisibility=hidden",
         "-fPIC", "-shared", "-Wl,-z,defs"]


def snippets():
    page = os.path.join(env_path("EHLOD_SRCDIR"), "docs", "ehlod-plugin.3")
    with open(page) as f:
        text = f.read()
    blocks = re.findall(r"^\.EX\n(.*?)^\.EE\n", text, re.M | re.S)
    out = []
    for b in blocks:
        b = b.replace("\\e", "\\").replace("\\-", "-").replace("\\(dq", '"')
        out.append(b)
    return out


class ManSnippets(EhlodTestCase):

    def test_every_snippet_compiles_without_warning(self):
        cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
        if cc is None:
            raise unittest.SkipTest("no C compiler")
        found = snippets()
        self.assertGreaterEqual(len(found), 4)
        work = tempfile.mkdtemp(prefix="ehlod-snippets-")
        self.addCleanup(shutil.rmtree, work, True)
        api = os.path.join(env_path("EHLOD_SRCDIR"), "api")
        for i, code in enumerate(found):
            src = os.path.join(work, "snippet%d.c" % i)
            with open(src, "w") as f:
                f.write(code)
            p = subprocess.run([cc] + FLAGS + ["-I" + api, "-o",
                                src[:-2] + ".so", src],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=60)
            out = p.stdout.decode(errors="replace")
            self.assertEqual(p.returncode, 0, "snippet %d:\n%s\n%s" %
                             (i, code, out))
            self.assertEqual(out, "", "snippet %d warns:\n%s\n%s" %
                             (i, code, out))


if __name__ == "__main__":
    main()
