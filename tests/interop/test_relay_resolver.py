#!/usr/bin/env python3
"""
NAME
    test_relay_resolver - a next hop given by name is looked up without
    the event loop reading the resolver's files

DESCRIPTION
    The relay plugin forwards to next_hop = smtp://localhost:PORT, where
    Postfix's smtp-sink listens; the name is looked up at each session
    with the next hop (libevent's evdns, on the loop).  Making a resolver
    reads /etc/resolv.conf and /etc/hosts, a disk wait; the plugin makes
    one per worker in init, where waiting is allowed, and every session
    uses it.  (Before, the client library made one per session, on the
    loop.)

    strace follows the only worker while smtplib sends three messages,
    each in a session of its own: every one must reach smtp-sink whole,
    through the name, and the worker must open neither file meanwhile.
"""
import os
import shutil
import smtplib
import tempfile

from ehlodtest import Ehlod, EhlodTestCase, Strace, main, sample_message
from test_client_support import SmtpSink

WAIT = 20
RESOLVER_FILES = ("/etc/resolv.conf", "/etc/hosts")

if not os.path.exists(os.path.join(os.environ.get("EHLOD_PLUGIN_DIR", ""),
                                   "relay.so")):
    print("skipped: relay.so is not built")
    raise SystemExit(77)
if shutil.which("strace") is None:
    print("skipped: strace is not installed")
    raise SystemExit(77)


def localhost_resolves():
    """evdns reads /etc/hosts; the test needs localhost there."""
    try:
        with open("/etc/hosts") as f:
            return any(line.split()[:1] == ["127.0.0.1"] and
                       "localhost" in line.split()[1:] for line in f)
    except OSError:
        return False


class ResolverTest(EhlodTestCase):

    def test_lookups_never_read_resolver_files_on_the_loop(self):
        if not localhost_resolves():
            self.skipTest("/etc/hosts does not name 127.0.0.1 localhost")
        tmp = tempfile.mkdtemp(prefix="ehlod-strace-")
        self.addCleanup(shutil.rmtree, tmp, True)
        trace = os.path.join(tmp, "trace")
        with SmtpSink() as sink:
            relay = {"next_hop": "smtp://localhost:%d" % sink.port,
                     "timeout": 10}
            plugins = [("pipelining", {}), ("enhancedstatuscodes", {}),
                       ("relay", relay)]
            with Ehlod(plugins=plugins, workers=1) as server:
                worker = server.started_workers()[0]
                strace = Strace(worker, trace, "trace=open,openat,openat2",
                                    string_len=64)
                try:
                    for i in range(3):
                        with smtplib.SMTP("127.0.0.1", server.port,
                                          timeout=WAIT) as c:
                            c.ehlo("client.test")
                            refused = c.sendmail(
                                "s@x.test", ["u@example.org"],
                                sample_message("by name %d" % i))
                            self.assertEqual(refused, {})
                finally:
                    strace.detach()
                log = server.log()
            dump = sink.dumped(transactions=3)
        for i in range(3):
            self.assertIn("by name %d" % i, dump)
        self.assertIn("relay=smtp://localhost:%d" % sink.port, log)
        with open(trace) as f:
            opened = [line for line in f
                      if any('"%s"' % p in line for p in RESOLVER_FILES)]
        self.assertEqual(opened, [], "the worker read the resolver's "
                         "files while serving sessions")


if __name__ == "__main__":
    main()
