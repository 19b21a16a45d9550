# plugins/security.mk - build rules for the security plugins, included by plugins/local.mk.
