# milter/local.mk - build rules for milter/, included by the top Makefile.am.
