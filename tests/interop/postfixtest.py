"""
NAME
    postfixtest - a private Postfix instance on loopback, for interop tests

SYNOPSIS
    from postfixtest import Postfix
    with Postfix(services=[Postfix.smtpd(port)], main={...}) as pf:
        ...

DESCRIPTION
    Runs a throw-away Postfix with its own config directory, queue and
    data directory under a temporary directory: "postfix -c DIR start",
    and "postfix -c DIR stop" (then "abort" and a kill of the master)
    when done, even after a failure.  It never touches /etc/postfix's
    instance: every listener is on 127.0.0.1 at ports the test picks,
    and mail only ever leaves towards loopback ("relayhost" must be a
    loopback address, or delivery is discarded); DNS is never used
    (smtp_host_lookup = native, disable_dns_lookups = yes).

    Postfix needs root to start (master binds and drops to mail_owner);
    without root, or without the postfix package, the test is skipped
    (exit 77).  The instance's own log is maillog_file in the directory:
    log() returns it, and failing tests print it.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from ehlodtest import free_port  # noqa: F401 (tests import it from here)

POSTFIX = "/usr/sbin/postfix"
START_TIMEOUT = 20

# The services every instance needs, chroot off (the temp dir is not a
# chroot jail).  Fields: service type private unpriv chroot wakeup maxproc.
BASE_SERVICES = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def skip(why):
    print("skipped: " + why)
    sys.exit(77)


def wait_port(port, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), 0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def need_postfix():
    """Skip (exit 77) unless a private Postfix can start here; a test
    that starts other processes first calls this before them."""
    if not os.path.exists(POSTFIX):
        skip("Postfix is not installed (Debian package postfix)")
    if os.geteuid() != 0:
        skip("a private Postfix must be started as root")


class Parts:
    """Processes a test starts in order (_add) and stops in reverse
    (close), whichever of close() or cleanup() each has."""

    def __init__(self):
        self.parts = []

    def _add(self, part):
        self.parts.append(part)
        return part

    def close(self):
        for p in reversed(self.parts):
            try:
                p.close() if hasattr(p, "close") else p.cleanup()
            except Exception:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Postfix:
    """One private Postfix instance."""

    @staticmethod
    def smtpd(port, *overrides):
        """A master.cf line for smtpd on 127.0.0.1:port with -o options."""
        opts = "".join("\n  -o %s" % o for o in overrides)
        return "127.0.0.1:%d inet n - n - - smtpd%s\n" % (port, opts)

    def __init__(self, services=(), main=None, files=None):
        need_postfix()
        self.dir = tempfile.mkdtemp(prefix="ehlod-postfix-")
        os.chmod(self.dir, 0o755)   # the postfix user walks into it
        self.conf = os.path.join(self.dir, "etc")
        self.queue = os.path.join(self.dir, "queue")
        self.data = os.path.join(self.dir, "data")
        self.maillog = os.path.join(self.dir, "maillog")
        for d in (self.conf, self.queue, self.data):
            os.mkdir(d, 0o755)
        shutil.chown(self.data, "postfix", "postfix")
        for name, text in (files or {}).items():
            with open(os.path.join(self.conf, name), "w") as f:
                f.write(text)
        self.started = False
        self._write(services, main or {})
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def path(self, name):
        """A file in the config directory (for maps given in files)."""
        return os.path.join(self.conf, name)

    def _write(self, services, main):
        settings = {
            "compatibility_level": "3.6",
            "queue_directory": self.queue,
            "data_directory": self.data,
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "maillog_file": self.maillog,
            "maillog_file_prefixes": self.dir,
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "myhostname": "postfix.test",
            "mydomain": "postfix.test",
            "myorigin": "postfix.test",
            "mydestination": "",
            "mynetworks": "127.0.0.0/8",
            "relay_domains": "",
            "local_recipient_maps": "",
            "alias_maps": "",
            "alias_database": "",
            "smtpd_relay_restrictions":
                "permit_mynetworks, reject_unauth_destination",
            "smtp_host_lookup": "native",
            "disable_dns_lookups": "yes",
            "smtp_tls_security_level": "none",
            "default_transport": "discard",
            "relayhost": "",
            "biff": "no",
            "smtputf8_enable": "no",
            "delay_warning_time": "0",
            "master_service_disable": "",
            "import_environment": "MAIL_CONFIG MAIL_DEBUG TZ LANG=C",
        }
        settings.update(main)
        relayhost = settings["relayhost"]
        if relayhost and not relayhost.startswith("[127.0.0.1]"):
            raise ValueError("relayhost must be on loopback: " + relayhost)
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            for k, v in settings.items():
                f.write("%s = %s\n" % (k, v))
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(BASE_SERVICES)
            for s in services:
                f.write(s)

    def postfix(self, *args, timeout=30):
        return subprocess.run([POSTFIX, "-c", self.conf] + list(args),
                              stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=timeout)

    def _start(self):
        r = self.postfix("start")
        self.started = True
        if r.returncode != 0:
            raise RuntimeError("postfix start failed:\n%s\n%s%s" % (
                r.stdout.decode(errors="replace"), self.log(),
                self._ports_taken()))

    def _ports_taken(self):
        """Which of master.cf's ports something else holds now.  master
        logs why it failed to syslog only, before postlogd runs, so a
        port taken under it would otherwise go unexplained."""
        with open(os.path.join(self.conf, "master.cf")) as f:
            ports = re.findall(r"^127\.0\.0\.1:(\d+)\s+inet", f.read(), re.M)
        taken = []
        for port in ports:
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", int(port)))
                except OSError:
                    taken.append(port)
        return "ports held by another process: %s\n" % ", ".join(taken) \
            if taken else ""

    def wait_listening(self, port):
        if not wait_port(port, START_TIMEOUT):
            raise RuntimeError("Postfix does not listen on %d:\n%s" % (
                port, self.log()))

    def log(self):
        try:
            with open(self.maillog, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def master_pid(self):
        try:
            with open(os.path.join(self.queue, "pid", "master.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def close(self):
        if self.started:
            pid = self.master_pid()
            try:
                if self.postfix("stop", timeout=20).returncode != 0:
                    self.postfix("abort", timeout=20)
            except subprocess.TimeoutExpired:
                pass
            end = time.monotonic() + 10
            while pid and time.monotonic() < end:
                try:
                    os.kill(pid, 0)
                except OSError:
                    break
                time.sleep(0.1)
            else:
                if pid:
                    try:
                        os.kill(pid, 9)   # the master we started, by pid
                    except OSError:
                        pass
            self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
