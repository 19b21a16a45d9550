# bench/local.mk - benchmarks, included by the top Makefile.am.  Never run
# by "make check": see bench/README.md.
EXTRA_DIST += bench/throughput bench/README.md bench/idle bench/bigmsg \
	bench/benchlib.py bench/milter bench/milter-floor.c bench/icount \
	bench/flushfloor bench/flush-floor.c bench/relaytls
