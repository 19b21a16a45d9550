"""bench/throughput sets up its disk as it says, without timing anything.

The bench's ratios are only fair if its setup holds, and a setup that
silently stopped working would not show in a rate: each run writes under
a fresh directory, open like /tmp (ehlod drops root), that ext4 treats
as the top of unrelated trees (chattr +T), so that the targets get block
groups of their own; and the bench says which flush order the maildir
plugin takes there by itself: fsync in tmp/ before the rename on ext4
without a journal, the journal order elsewhere.  Checked on the tests' temporary directory and on /dev/shm
(tmpfs: no flag, journal order).  Nothing here is timed.
"""

import importlib.machinery
import importlib.util
import os
import shutil
import stat
import subprocess
import tempfile
import unittest

import ehlodtest
from ehlodtest import EhlodTestCase, main
from test_maildir_order import (posix_order_expected, fs_magic,
                                temp_parents)

SRC = os.path.realpath(os.environ.get("EHLOD_SRCDIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def load_throughput():
    """bench/throughput as a module (it has no .py suffix)."""
    path = os.path.join(SRC, "bench", "throughput")
    loader = importlib.machinery.SourceFileLoader("throughput", path)
    spec = importlib.util.spec_from_loader("throughput", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def has_topdir_flag(path):
    """lsattr's 'T' (ext4's EXT4_TOPDIR_FL) on the directory path."""
    out = subprocess.run(["lsattr", "-d", path], capture_output=True,
                         text=True)
    return out.returncode == 0 and "T" in out.stdout.split()[0]


class BenchSetupTest(EhlodTestCase):

    @classmethod
    def setUpClass(cls):
        cls.bench = load_throughput()

    def test_run_dir_is_open_and_marked_top_on_ext4(self):
        if shutil.which("lsattr") is None:
            raise unittest.SkipTest("no lsattr (Debian package e2fsprogs)")
        for parent in temp_parents():
            with self.subTest(parent=parent):
                run_dir = self.bench.make_run_dir(parent)
                self.addCleanup(shutil.rmtree, run_dir, True)
                self.assertEqual(os.path.dirname(run_dir), parent)
                mode = os.stat(run_dir).st_mode
                self.assertEqual(stat.S_IMODE(mode), 0o1777)
                self.assertEqual(has_topdir_flag(run_dir),
                                 fs_magic(parent) == "ef53",
                                 "%s: statfs magic %s" % (
                                     parent, fs_magic(parent)))

    def test_maildir_order_reported_as_the_plugin_takes_it(self):
        saved = tempfile.tempdir
        self.addCleanup(setattr, tempfile, "tempdir", saved)
        for parent in temp_parents():
            with self.subTest(parent=parent):
                tempfile.tempdir = parent
                self.assertEqual(self.bench.maildir_order(ehlodtest),
                                 "posix" if posix_order_expected(parent)
                                 else "journal", parent)

    def test_disk_use_counted_where_there_is_a_disk(self):
        for parent in temp_parents():
            with self.subTest(parent=parent):
                stat_file = self.bench.block_stat_path(parent)
                if fs_magic(parent) == "1021994":    # tmpfs
                    self.assertIsNone(stat_file)
                    self.assertIsNone(self.bench.disk_per_message(
                        None, None, 1))
                    continue
                dev = os.stat(parent).st_dev
                if not os.path.isdir("/sys/dev/block/%d:%d" % (
                        os.major(dev), os.minor(dev))):
                    self.skipTest("%s: no block device in /sys" % parent)
                self.assertIsNotNone(stat_file, parent)
                disk = os.path.dirname(stat_file)
                # A whole disk, never one of its partitions.
                self.assertFalse(os.path.exists(
                    os.path.join(disk, "partition")), disk)
                before = self.bench.disk_counters(stat_file)
                work = tempfile.mkdtemp(dir=parent)
                self.addCleanup(shutil.rmtree, work, True)
                with open(os.path.join(work, "f"), "wb") as f:
                    f.write(b"x" * 65536)
                    f.flush()
                    os.fsync(f.fileno())
                used = self.bench.disk_per_message(
                    before, self.bench.disk_counters(stat_file), 1)
                self.assertGreaterEqual(used[0], 1, used)
                self.assertGreaterEqual(used[1], 64, used)
                with open(os.path.join(disk, "queue", "write_cache")) as f:
                    cached = f.read().strip() == "write back"
                if cached:
                    self.assertGreaterEqual(used[2], 1, used)


if __name__ == "__main__":
    main()
