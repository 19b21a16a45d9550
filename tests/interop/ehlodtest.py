"""ehlodtest - harness for the ehlod interop tests.

NAME
    ehlodtest - start ehlod on a free loopback port for one test

DESCRIPTION
    Ehlod(...) writes a config file into a fresh temporary directory, picks
    a free port on 127.0.0.1, starts "$EHLOD_BIN -c CONF" in the foreground
    with its stderr captured into a file, and waits until the port accepts.
    The object has .port, .maildir, .log(), .delivered(), .stop() and is a
    context manager, so the server (and its workers: they share a process
    group) is always stopped, even when the test fails.

    RawSession speaks SMTP over a plain socket, for inputs smtplib refuses
    to send (bare LF, overlong lines, pipelined batches).

    EhlodTestCase is a unittest.TestCase with a watchdog: a test that runs
    longer than TEST_TIMEOUT seconds is interrupted with TimeoutError, so
    the context managers still clean up.

ENVIRONMENT
    EHLOD_BIN, EHLOD_PLUGIN_DIR, EHLOD_TEST_PLUGIN_DIR (set by make check).
"""

import atexit
import os
import random
import re
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import shutil
import time
import unittest

TEST_TIMEOUT = 30          # seconds, per test method
START_TIMEOUT = 10         # seconds for the server to accept
STOP_TIMEOUT = 10          # seconds between SIGTERM and SIGKILL
IO_TIMEOUT = 10            # seconds for one socket read

HOSTNAME = "mx.test"
LOCAL_DOMAIN = "example.org"
SIZE_LIMIT = 1000000

# The plugins of a typical test, in EHLO order.  "maildir" gets its path
# from the harness when the options do not name one.
DEFAULT_PLUGINS = [
    ("pipelining", {}),
    ("size", {"limit": SIZE_LIMIT}),
    ("8bitmime", {}),
    ("enhancedstatuscodes", {}),
    ("maildir", {}),
]

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:", "SUMMARY: UndefinedBehaviorSanitizer")

ENHANCED_RE = re.compile(r"^([245])\.\d{1,3}\.\d{1,3}(\s|$)")

_running = []
_tempdirs = []

# A plugin's timer (libevent's, in ehlod and ehlod-milter) counts from
# the loop's clock as read at the start of its turn, so it can fire a few
# milliseconds before its delay has passed on time.monotonic(): a test
# that checks that a reply waited for a timer allows this much (a CI run
# measured 0.4992 s for a 500 ms timer).
TIMER_SLACK = 0.05


def env_path(name):
    """The value of a required environment variable (set by make check)."""
    value = os.environ.get(name)
    if not value:
        raise RuntimeError("%s is not set: run the tests with make check "
                           "or export it by hand" % name)
    return value


def ehlod_bin():
    return env_path("EHLOD_BIN")


def plugin_dir():
    return env_path("EHLOD_PLUGIN_DIR")


def test_plugin_dir():
    return env_path("EHLOD_TEST_PLUGIN_DIR")


def fixture_path(name):
    """A fixture plugin built from tests/unit/test_fixture_plugin.c."""
    return os.path.join(env_path("EHLOD_FIXTURE_DIR"), name + ".so")


def _ephemeral_low():
    """The first port of the kernel's range for outgoing connections."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


PORT_CLAIMS = os.path.join(tempfile.gettempdir(), "ehlod-test-ports")
_claimed = []


def _claim(port):
    """Claim port for this process against the other test scripts of a
    parallel run (make -j): one file per port, made with O_EXCL, removed
    when this process ends.  A claim left by a killed process only keeps
    its port out of use."""
    try:
        os.makedirs(PORT_CLAIMS, exist_ok=True)
        os.chmod(PORT_CLAIMS, 0o1777)
    except OSError:
        pass
    path = os.path.join(PORT_CLAIMS, str(port))
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    except OSError:
        return True     # no claims possible here: the bind check only
    os.write(fd, b"%d\n" % os.getpid())
    os.close(fd)
    _claimed.append((os.getpid(), path))
    return True


@atexit.register
def _release_claims():
    for owner, path in _claimed:
        if owner != os.getpid():    # a forked child's exit: not its claims
            continue
        try:
            os.unlink(path)
        except OSError:
            pass


def free_port(family=socket.AF_INET, kind=socket.SOCK_STREAM):
    """A port on loopback that nothing holds right now, for a server the
    test starts next.

    The port is drawn below the kernel's ephemeral range.  A port the
    kernel hands out (bind to port 0) can be taken again by any outgoing
    connection, another test's in a parallel run, in the second or two
    before the server binds it: Postfix's master then fails to start.
    Outgoing connections never take a port below that range.  Each port
    is claimed (_claim), so that two tests running side by side never
    draw the same one either; this process keeps it until it ends."""
    host = "::1" if family == socket.AF_INET6 else "127.0.0.1"
    top = _ephemeral_low()
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(10000, top) if top > 11000 else 0
        with socket.socket(family, kind) as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            port = s.getsockname()[1]
        if _claim(port):
            return port
    raise RuntimeError("no free port found below %d" % top)


def conf_value(value):
    """Render a Python value in libconfuse syntax."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "{" + ", ".join(conf_value(v) for v in value) + "}"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text + '"'


def render_config(core, plugins):
    """The text of a config file: core options, then plugin sections."""
    lines = []
    for key, value in core.items():
        if value is None:
            continue
        lines.append("%s = %s" % (key, conf_value(value)))
    for name, options in plugins:
        if not options:
            lines.append("plugin %s {}" % name)
            continue
        lines.append("plugin %s {" % name)
        for key, value in options.items():
            lines.append("    %s = %s" % (key, conf_value(value)))
        lines.append("}")
    return "\n".join(lines) + "\n"


def remove_at_exit(path):
    """Remove the directory path when the test program ends (unless
    $EHLOD_TEST_KEEP is set, to look at it afterwards); returns path."""
    _tempdirs.append(path)
    return path


def make_tempdir(prefix="ehlod-test-"):
    """A temporary directory the server can use after dropping root,
    removed when the test program ends.  Sticky, like /tmp: ehlod
    running as root accepts a root-owned sticky directory above its
    config file (TRUST in ehlod(8)), a plain 0777 one it refuses."""
    path = tempfile.mkdtemp(prefix=prefix)
    os.chmod(path, 0o1777)
    return remove_at_exit(path)


class Capture:
    """The capture test plugin (tests/plugins/capture.c) delivering into
    a fresh directory: the octets the host hands to delivery steps."""

    def __init__(self, **options):
        self.dir = make_tempdir("ehlod-capture-")
        self.options = {"path": os.path.join(test_plugin_dir(),
                                             "capture.so"),
                        "directory": self.dir}
        self.options.update(options)

    def plugin(self):
        return ("capture", self.options)

    def files(self):
        """The messages delivered, oldest first."""
        names = sorted(os.listdir(self.dir),
                       key=lambda n: os.stat(os.path.join(self.dir,
                                                          n)).st_mtime_ns)
        out = []
        for name in names:
            with open(os.path.join(self.dir, name), "rb") as f:
                out.append(f.read())
        return out


def status_kb(pid, key):
    """A size field of /proc/PID/status (VmRSS, VmHWM...), in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s for %d" % (key, pid))


def under_asan(pid):
    """Whether AddressSanitizer runs in pid (its memory then counts
    the sanitizer's own)."""
    with open("/proc/%d/maps" % pid) as f:
        return "libasan" in f.read()


def children_of(pid):
    """PIDs of pid's live child processes (from /proc; zombies left out)."""
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/status" % entry) as f:
                status = f.read()
        except OSError:
            continue
        ppid = re.search(r"^PPid:\s+(\d+)", status, re.M)
        state = re.search(r"^State:\s+(\S)", status, re.M)
        if ppid and int(ppid.group(1)) == pid and \
                not (state and state.group(1) == "Z"):
            children.append(int(entry))
    return sorted(children)


class Ehlod:
    """One ehlod process with its own config, port, Maildir and log."""

    def __init__(self, plugins=None, start=True, extra_config="",
                 extra_listen=(), nofile=None, **core):
        self.dir = make_tempdir()
        self.maildir = os.path.join(self.dir, "Maildir")
        self.log_path = os.path.join(self.dir, "ehlod.log")
        # How the server's stderr is opened: "ab" as a shell's 2>>, "wb"
        # as its 2>.
        self.log_mode = "ab"
        self.conf_path = os.path.join(self.dir, "ehlod.conf")
        self.proc = None
        self.port = None
        self.returncode = None
        self.extra_config = extra_config
        self.nofile = nofile	# RLIMIT_NOFILE for the server, or None
        self.extra_listen = list(extra_listen)
        self.plugins = self._complete_plugins(
            DEFAULT_PLUGINS if plugins is None else plugins)
        self.core = {
            "listen": None,
            "hostname": HOSTNAME,
            "local_domains": [LOCAL_DOMAIN],
            "max_recipients": 100,
            "workers": 1,
            "plugin_dir": plugin_dir(),
            "message_size_limit": 52428800,
            "command_timeout": 300,
            "data_timeout": 300,
            "second_ehlo": "reset",
            "max_errors": 20,
        }
        self.core.update(core)
        if start:
            try:
                self.start()
            except BaseException:
                self.cleanup()
                raise

    def _complete_plugins(self, plugins):
        done = []
        for name, options in plugins:
            options = dict(options)
            if name == "maildir" and "directory" not in options:
                options["directory"] = self.maildir
            if name == "delay" and "path" not in options:
                options["path"] = os.path.join(test_plugin_dir(), "delay.so")
            if name.startswith("fixture") and "path" not in options:
                options["path"] = fixture_path(name)
            done.append((name, options))
        return done

    def write_config(self):
        core = dict(self.core)
        core["listen"] = ["127.0.0.1:%d" % self.port] + self.extra_listen
        text = render_config(core, self.plugins) + self.extra_config
        with open(self.conf_path, "w") as f:
            f.write(text)
        os.chmod(self.conf_path, 0o644)
        return text

    def start(self):
        """Start the server; retry on a port somebody else grabbed."""
        last = None
        for _attempt in range(3):
            self.port = free_port()
            self.write_config()
            try:
                self._spawn()
                return self
            except PortTaken as e:
                last = e
        raise last

    def _spawn(self):
        logf = open(self.log_path, self.log_mode)
        try:
            self.proc = subprocess.Popen(
                [ehlod_bin(), "-c", self.conf_path],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                start_new_session=True, preexec_fn=self._limits)
        finally:
            logf.close()
        _running.append(self)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.returncode = self.proc.returncode
                _running.remove(self)
                text = self.log()
                if "in use" in text.lower():
                    raise PortTaken(text)
                raise RuntimeError("ehlod exited with %s before accepting:\n"
                                   "%s\nconfig:\n%s" % (
                                       self.proc.returncode, text,
                                       open(self.conf_path).read()))
            try:
                with socket.create_connection(("127.0.0.1", self.port),
                                              timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("ehlod did not accept on port %d within %ds:\n%s"
                           % (self.port, START_TIMEOUT, self.log()))

    def _limits(self):
        if self.nofile is not None:
            import resource
            resource.setrlimit(resource.RLIMIT_NOFILE,
                               (self.nofile, self.nofile))

    def workers(self):
        """PIDs of the master's child processes (from /proc)."""
        return children_of(self.proc.pid)

    def started_workers(self, timeout=10):
        """The workers' PIDs once all the configured ones run: the port
        answers as soon as the master listens, before it forks them."""
        deadline = time.monotonic() + timeout
        while True:
            pids = self.workers()
            if len(pids) >= int(self.core["workers"]) or \
                    time.monotonic() > deadline:
                return pids
            time.sleep(0.02)

    @property
    def pid(self):
        return self.proc.pid

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, signum):
        self.proc.send_signal(signum)

    def wait(self, timeout):
        """Wait for the master to exit; return its exit code or None."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, wait, then SIGKILL the whole process group."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._kill_group()
                self.proc.wait(5)
        self._kill_group()
        self.returncode = self.proc.returncode
        if self in _running:
            _running.remove(self)
        return self.returncode

    def _kill_group(self, timeout=10):
        # Workers are in the master's process group (start_new_session);
        # a worker left behind by a crashed master is killed here, and
        # waited for: a killed process holds its files until the kernel
        # has torn it down (long for a sanitizer build's address space),
        # and a test that unmounts what the server wrote to must find
        # nothing holding it.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.proc.poll()	# the master, our child, is reaped here
            try:
                os.killpg(self.proc.pid, 0)
            except (ProcessLookupError, PermissionError):
                return
            time.sleep(0.02)

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_when(self, pattern, timeout=10):
        """The log once the regex pattern shows in it (or the timeout).

        Lines such as "disconnect from" are written after the reply the
        client waits for, so a test that reads them must wait for them."""
        return wait_for_text(self.log, pattern, timeout)

    def sanitizer_report(self):
        text = self.log()
        for mark in SANITIZER_MARKS:
            if mark in text:
                return text
        return None

    def delivered(self):
        """Contents (bytes) of the files in Maildir/new, oldest first."""
        return [content for _name, content in self.delivered_files()]

    def delivered_files(self):
        new = os.path.join(self.maildir, "new")
        if not os.path.isdir(new):
            return []
        names = os.listdir(new)
        entries = []
        for name in names:
            path = os.path.join(new, name)
            with open(path, "rb") as f:
                entries.append((os.stat(path).st_mtime_ns, name, f.read()))
        entries.sort()
        return [(name, content) for _m, name, content in entries]

    def leftovers(self):
        """Files left in Maildir/tmp (partial messages)."""
        tmp = os.path.join(self.maildir, "tmp")
        if not os.path.isdir(tmp):
            return []
        return os.listdir(tmp)

    def smtp(self, helo=None, timeout=IO_TIMEOUT):
        """An smtplib.SMTP connected to this server (no greeting sent)."""
        client = smtplib.SMTP("127.0.0.1", self.port, timeout=timeout,
                              local_hostname=helo or "client.test")
        return client

    def raw(self, timeout=IO_TIMEOUT, read_greeting=True):
        """A RawSession connected to this server; the greeting is read
        unless read_greeting is false."""
        return RawSession(self.port, timeout=timeout,
                          read_greeting=read_greeting)

    def check(self):
        """Run "ehlod -t" on this server's configuration, written but
        not started (-t binds nothing): (exit code, output)."""
        if self.port is None:
            self.port = free_port()
        self.write_config()
        return run_ehlod(["-t", "-c", self.conf_path])

    def cleanup(self):
        self.stop()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.stop()
        report = self.sanitizer_report()
        if exc_type is not None:
            # The failure first: a CI excerpt that cuts the middle of a
            # long log still shows what failed.
            sys.stderr.write("---- failed: %s: %s ----\n"
                             % (exc_type.__name__, str(exc)[:2000]))
            sys.stderr.write("---- ehlod log (%s) ----\n%s---- end ----\n"
                             % (self.conf_path, self.log()[-8000:]))
        # The directory (make_tempdir's) stays until the test program
        # ends, so a test can look at Maildir and the log after the
        # server stopped.
        if report and exc_type is None:
            raise AssertionError("sanitizer report in the ehlod log:\n"
                                 + report[-8000:])
        return False


class PortTaken(RuntimeError):
    pass


def wait_for(predicate, timeout=15, step=0.05):
    """predicate()'s value as soon as it is true, within timeout seconds;
    its value at the end otherwise (false)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def refused(port, timeout=5):
    """Whether a connection to port on loopback is refused."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=timeout).close()
    except ConnectionRefusedError:
        return True
    return False


def wait_for_text(read, pattern, timeout=10):
    """read()'s text once the regex pattern is found in it, or at timeout."""
    deadline = time.monotonic() + timeout
    while True:
        text = read()
        if re.search(pattern, text) or time.monotonic() >= deadline:
            return text
        time.sleep(0.05)


class NotifySocket:
    """A unix datagram socket standing in for systemd's notify socket."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="ehlod-notify-")
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o777)

    def wait_for(self, word, timeout=10):
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                msg = self.receive()
            except socket.timeout:
                break
            seen.append(msg)
            if word in msg.split("\n"):
                return msg
        raise AssertionError("no %s; got %r" % (word, seen))

    def receive(self):
        """The next datagram, as text."""
        return self.sock.recv(4096).decode()

    def close(self):
        self.sock.close()
        os.unlink(self.path)
        os.rmdir(self.dir)


SYSTEMD_ANALYZE = "/usr/bin/systemd-analyze"


def verify_unit(testcase, name, replace, workdir):
    """The built systemd unit etc/NAME: Type=notify, every @...@ filled
    in, and with the install paths replaced ({installed: this build's})
    it passes systemd-analyze verify (no systemd runs here to start it).
    Returns the unit's text as built."""
    if not os.path.exists(SYSTEMD_ANALYZE):
        testcase.fail("systemd-analyze missing: install the Debian package "
                      "systemd")
    with open(os.path.join(env_path("EHLOD_BUILDDIR"), "etc", name)) as f:
        text = f.read()
    testcase.assertIn("Type=notify", text)
    testcase.assertNotRegex(text, r"@[a-z]+@")
    copy_text = text
    for old, new in replace.items():
        copy_text = copy_text.replace(old, new)
    copy = os.path.join(workdir, name)
    with open(copy, "w") as f:
        f.write(copy_text)
    p = subprocess.run([SYSTEMD_ANALYZE, "verify", "--man=no", copy],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60)
    testcase.assertEqual(p.returncode, 0, p.stdout.decode())
    return text


def unit_command(text, key):
    """The words of the unit's first KEY= line (ExecStart, ...)."""
    return text.split("\n" + key + "=")[1].split("\n")[0].split()


def check_config(plugins=None, **core):
    """"ehlod -t" on a configuration of these plugins and core options,
    never started: (exit code, output)."""
    server = Ehlod(start=False, plugins=plugins, **core)
    try:
        return server.check()
    finally:
        server.cleanup()


def run_ehlod(args, timeout=15):
    """Run ehlod with args (e.g. -t -c FILE); return (code, stdout+stderr)."""
    proc = subprocess.run([ehlod_bin()] + list(args), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=timeout)
    return proc.returncode, proc.stdout.decode("utf-8", "replace")


@atexit.register
def _stop_all():
    for server in list(_running):
        server.stop(timeout=3)
    if not os.environ.get("EHLOD_TEST_KEEP"):
        for path in _tempdirs:
            shutil.rmtree(path, ignore_errors=True)


class ConnectionClosed(Exception):
    pass


class Reply:
    """One SMTP reply: code, text lines (without code and separator)."""

    def __init__(self, code, lines, raw):
        self.code = code
        self.lines = lines
        self.raw = raw

    @property
    def text(self):
        return "\n".join(self.lines)

    @property
    def enhanced(self):
        """The RFC 3463 code at the start of the first line, or None."""
        m = ENHANCED_RE.match(self.lines[0] if self.lines else "")
        return m.group(0).strip() if m else None

    def __repr__(self):
        return "Reply(%d, %r)" % (self.code, self.lines)


class Strace:
    """strace attached to pid and every thread of it, tracing the calls
    strace's "-e" names (e.g. "trace=fsync,rename"), timed (-ttt -T) and
    with the path of each descriptor (-y), into path; with per_thread,
    each thread's calls into path.TID (-ff).  detach() ends it."""

    def __init__(self, pid, path, calls, per_thread=False, string_len=16):
        self.proc = subprocess.Popen(
            ["strace", "-ff" if per_thread else "-f", "-ttt", "-T", "-y",
             "-s", str(string_len), "-o", path, "-e", calls,
             "-p", str(pid)],
            stderr=subprocess.PIPE, text=True)
        line = self.proc.stderr.readline()
        if "attached" not in line:
            self.proc.kill()
            raise AssertionError("strace did not attach: %r" % line)

    def detach(self, timeout=20):
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout)
        self.proc.stderr.close()


class RawSession:
    """SMTP over a bare socket: send exactly the bytes a test wants."""

    def __init__(self, port, timeout=IO_TIMEOUT, read_greeting=True):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=timeout)
        self.timeout = timeout
        self.buf = b""
        self.greeting = self.reply() if read_greeting else None

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.sock.sendall(data)

    def _fill(self, timeout=None):
        self.sock.settimeout(self.timeout if timeout is None else timeout)
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionClosed("server closed the connection; unread: %r"
                                   % self.buf)
        self.buf += chunk

    def readline(self, timeout=None):
        while b"\n" not in self.buf:
            self._fill(timeout)
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def reply(self, timeout=None):
        """Read one whole (possibly multi-line) reply."""
        lines = []
        raw = []
        while True:
            line = self.readline(timeout)
            raw.append(line + b"\n")
            text = line.rstrip(b"\r").decode("utf-8", "replace")
            if len(text) < 3 or not text[:3].isdigit():
                raise AssertionError("malformed reply line %r" % text)
            code = int(text[:3])
            sep = text[3:4]
            lines.append(text[4:])
            if sep != "-":
                return Reply(code, lines, b"".join(raw))

    def replies(self, count, timeout=None):
        return [self.reply(timeout) for _ in range(count)]

    def cmd(self, line, timeout=None):
        """Send one command line (CRLF added) and read its reply."""
        self.send(line + "\r\n" if isinstance(line, str) else line + b"\r\n")
        return self.reply(timeout)

    def codes(self, count, timeout=None):
        return [r.code for r in self.replies(count, timeout)]

    def quiet(self, wait=0.5):
        """True when the server sends nothing more within wait seconds."""
        if self.buf:
            return False
        self.sock.settimeout(wait)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return True
        if chunk:
            self.buf += chunk
            return False
        return True

    def wait_closed(self, timeout=None):
        """True when the server closes the connection within timeout."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return False
            except ConnectionResetError:
                return True
            if not chunk:
                return True
            self.buf += chunk
        return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _alarm(signum, frame):
    raise TimeoutError("test ran longer than %d seconds" % TEST_TIMEOUT)


class EhlodTestCase(unittest.TestCase):
    """TestCase with a per-test watchdog and SMTP assertions."""

    timeout = TEST_TIMEOUT

    def setUp(self):
        signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(self.timeout)

    def tearDown(self):
        signal.alarm(0)

    def server(self, plugins=None, **core):
        return Ehlod(plugins=plugins, **core)

    def assertCode(self, reply, code, msg=None):
        """reply is a Reply or an smtplib (code, bytes) tuple."""
        got = reply.code if isinstance(reply, Reply) else reply[0]
        self.assertEqual(got, code, msg or "expected %d, got %r"
                         % (code, reply))

    def assertClass(self, reply, digit, msg=None):
        got = reply.code if isinstance(reply, Reply) else reply[0]
        self.assertEqual(got // 100, digit, msg or "expected %dxx, got %r"
                         % (digit, reply))

    def assertEnhanced(self, reply, enhanced):
        self.assertEqual(reply.enhanced, enhanced,
                         "expected enhanced code %s in %r" % (enhanced, reply))


def ehlo(session, name="client.test"):
    """Send EHLO on a RawSession and check it is a 250."""
    r = session.cmd("EHLO " + name)
    if r.code != 250:
        raise AssertionError("EHLO answered %r" % r)
    return r


def unfold(header_block):
    """Join folded header lines (RFC 5322 section 2.2.3)."""
    return re.sub(r"\r?\n[ \t]+", " ", header_block)


def split_added_headers(delivered, original):
    """delivered must end with original; return the prefix the server added.

    Both are bytes with LF line ends."""
    if not delivered.endswith(original):
        raise AssertionError("delivered message does not end with the "
                             "message sent:\nsent: %r\ngot:  %r"
                             % (original[:400], delivered[:600]))
    return delivered[:len(delivered) - len(original)]


def main():
    """Run the file's tests.  When every one of them skipped (a peer or
    a privilege missing here), exit 77 so that the harness reports SKIP,
    not PASS: a file that ran nothing has shown nothing."""
    result = unittest.main(verbosity=2, exit=False).result
    if not result.wasSuccessful():
        sys.exit(1)
    if result.skipped and result.testsRun <= len(result.skipped):
        sys.exit(77)
    sys.exit(0)


def sample_message(subject="ehlod test", body=None):
    """A small RFC 5322 message with CRLF line ends (bytes)."""
    if body is None:
        body = (b"first line\r\n"
                b".a line that starts with a dot\r\n"
                b"\r\n"
                b"  indented line\r\n"
                b"last line\r\n")
    head = ("From: Sender <s@x.test>\r\n"
            "To: User <u@example.org>\r\n"
            "Subject: %s\r\n"
            "Message-ID: <%d.%d@x.test>\r\n"
            "\r\n" % (subject, os.getpid(), time.monotonic_ns()))
    return head.encode("ascii") + body


def lf(data):
    """The same bytes with CRLF turned into LF (as Maildir stores them)."""
    return data.replace(b"\r\n", b"\n")


def dot_stuff(data):
    """Dot-stuff a CRLF message for DATA and append the end marker."""
    lines = data.split(b"\r\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out = b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n"
                   for l in lines)
    return out + b".\r\n"


def transaction(session, sender="s@x.test", rcpts=("u@example.org",),
                message=None):
    """MAIL, RCPT..., DATA, message on a RawSession, one step at a time.

    Returns the reply to the end of data; fails when a step before it is
    not answered as expected."""
    r = session.cmd("MAIL FROM:<%s>" % sender)
    if r.code != 250:
        raise AssertionError("MAIL answered %r" % r)
    return after_mail(session, rcpts, message)


def after_mail(session, rcpts=("u@example.org",), message=None):
    """RCPT..., DATA and the message once MAIL was accepted: the reply to
    the end of data, as transaction()."""
    if message is None:
        message = sample_message()
    for rcpt in rcpts:
        r = session.cmd("RCPT TO:<%s>" % rcpt)
        if r.code != 250:
            raise AssertionError("RCPT answered %r" % r)
    r = session.cmd("DATA")
    if r.code != 354:
        raise AssertionError("DATA answered %r" % r)
    session.send(dot_stuff(message))
    return session.reply()
