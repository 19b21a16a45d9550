"""Live counters without parsing logs: the status socket (status_socket,
served by the workers from counters shared in memory) read with
"ehlod -s", in Prometheus text format.  After a delivery, a relay
denial and a limit hit the counters say so, summed over two workers.
The relay plugin's own counters (host->count) show its next hop: a
message relayed to a real smtp-sink, then a next hop that is gone.
"""

import os
import re
import stat
import time

from ehlodtest import (Ehlod, EhlodTestCase, main, run_ehlod, ehlo,
                       sample_message)
from test_client_support import SmtpSink


def metric(text, name):
    m = re.search(r"^%s (\d+)$" % re.escape(name), text, re.M)
    return int(m.group(1)) if m else None


class StatusTest(EhlodTestCase):

    def test_counters_after_real_sessions(self):
        server = Ehlod(start=False, workers=2, max_sessions_per_client=0,
                       max_connect_rate=3)
        server.core["status_socket"] = os.path.join(server.dir, "status")
        try:
            server.start()
            path = server.core["status_socket"]
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
            with server.smtp() as c:
                c.sendmail("a@client.test", ["u@example.org"],
                           sample_message("counted"))
            with server.raw() as s:
                ehlo(s)
                self.assertCode(s.cmd("MAIL FROM:<a@client.test>"), 250)
                self.assertCode(s.cmd("RCPT TO:<x@other.test>"), 554)
            with server.raw(read_greeting=False) as s:
                self.assertCode(s.reply(timeout=10), 421)	# the rate
            time.sleep(0.3)
            code, out = run_ehlod(["-s", "-c", server.conf_path])
            self.assertEqual(code, 0, out)
        finally:
            server.cleanup()
        self.assertIn("# TYPE ehlod_messages_total counter", out)
        self.assertEqual(metric(out, 'ehlod_messages_total{status="sent"}'),
                         1, out)
        self.assertEqual(metric(out, "ehlod_connections_total"), 4, out)
        self.assertEqual(metric(
            out, 'ehlod_limit_hits_total{limit="max_connect_rate"}'), 1, out)
        self.assertEqual(metric(
            out, 'ehlod_verdicts_total{plugin="maildir",step="EOM",'
            'verdict="accept"}'), 1, out)
        self.assertGreaterEqual(metric(out, "ehlod_commands_total"), 8, out)
        self.assertIsNotNone(metric(out, "ehlod_sessions"), out)

    def test_relay_counters(self):
        sink = SmtpSink()
        self.addCleanup(sink.close)
        server = Ehlod(start=False, workers=2, plugins=[
            ("pipelining", {}), ("enhancedstatuscodes", {}),
            ("relay", {"next_hop": "smtp://127.0.0.1:%d" % sink.port,
                       "domains": ["example.org"], "timeout": 10})])
        server.core["status_socket"] = os.path.join(server.dir, "status")
        try:
            server.start()
            with server.smtp() as c:
                c.sendmail("a@client.test", ["u@example.org"],
                           sample_message("relayed"))
            sink.dumped(timeout=10)
            sink.close()	# the next hop is gone
            with server.raw() as s:
                ehlo(s)
                self.assertCode(s.cmd("MAIL FROM:<a@client.test>"), 250)
                self.assertCode(s.cmd("RCPT TO:<v@example.org>"), 451)
            time.sleep(0.3)
            code, out = run_ehlod(["-s", "-c", server.conf_path])
            self.assertEqual(code, 0, out)
        finally:
            server.cleanup()
        lab = '{plugin="relay"}'
        self.assertIn("# TYPE ehlod_relay_hop_sessions_total counter", out)
        self.assertEqual(metric(out, "ehlod_relay_hop_sessions_total" + lab),
                         1, out)
        self.assertEqual(metric(out, "ehlod_relay_messages_total" + lab),
                         1, out)
        self.assertEqual(metric(out, "ehlod_relay_hop_failures_total" + lab),
                         1, out)
        self.assertEqual(metric(out, "ehlod_relay_hop_refusals_total" + lab),
                         0, out)
        # open, MAIL, RCPT, DATA: four answers, each waited for.
        self.assertEqual(metric(out, "ehlod_relay_hop_replies_total" + lab),
                         4, out)
        self.assertGreater(metric(
            out, "ehlod_relay_hop_wait_microseconds_total" + lab), 0, out)

    def test_no_status_socket_is_a_clear_error(self):
        server = Ehlod(start=False)
        try:
            server.port = 2525
            server.write_config()
            code, out = run_ehlod(["-s", "-c", server.conf_path])
            self.assertEqual(code, 1)
            self.assertIn("no status_socket", out)
        finally:
            server.cleanup()


if __name__ == "__main__":
    main()
