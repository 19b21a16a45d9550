# plugins/extensions.mk - build rules for the extensions plugins, included by plugins/local.mk.
