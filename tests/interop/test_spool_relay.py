"""test_spool_relay - a spooled message relayed to the next hop.

With spool_threshold at 4096 octets, a message of about 1 MiB goes through
the unlinked spool file and the relay plugin reads it back from there:
aiosmtpd, the next hop, gets a body byte-identical (sha256) to what was
sent, and the spool directory is empty afterwards.
"""

import base64
import hashlib
import os
import shutil
import smtplib

from ehlodtest import Ehlod, EhlodTestCase, main, make_tempdir
from test_client_support import Aiosmtpd
from test_spool import big_body, split

if not os.path.exists(os.path.join(os.environ.get("EHLOD_PLUGIN_DIR", ""),
                                   "relay.so")):
    print("skipped: relay.so is not built")
    raise SystemExit(77)


class SpoolRelayTest(EhlodTestCase):

    timeout = 240

    def test_relayed_body_identical_250(self):
        spool = make_tempdir("ehlod-spool-")
        self.addCleanup(shutil.rmtree, spool, True)
        content = big_body()
        with Aiosmtpd(size=10000000) as hop:
            relay = {"next_hop": "smtp://127.0.0.1:%d" % hop.port,
                     "timeout": 60, "domains": ["example.org"]}
            with Ehlod(plugins=[("size", {"limit": 10000000}),
                                ("8bitmime", {}), ("relay", relay)],
                       spool_threshold=4096, spool_directory=spool) as srv:
                with smtplib.SMTP("127.0.0.1", srv.port, timeout=120) as c:
                    c.ehlo("client.test")
                    c.mail("s@x.test")
                    c.rcpt("u@example.org")
                    code, _text = c.data(content)
                self.assertEqual(code, 250)
                self.assertEqual(os.listdir(spool), [],
                                 "a spool file was left behind")
            got = hop.received()
        self.assertEqual(len(got), 1)
        data = base64.b64decode(got[0]["content"])
        head, body = split(data, b"\r\n")
        self.assertIn(b"Subject: spool", head)
        sent = split(content, b"\r\n")[1]
        self.assertEqual(len(body), len(sent))
        self.assertEqual(hashlib.sha256(body).hexdigest(),
                         hashlib.sha256(sent).hexdigest(),
                         "the relayed body differs from what was sent")


if __name__ == "__main__":
    main()
