# core/local.mk - build rules for core/, included by the top Makefile.am.
