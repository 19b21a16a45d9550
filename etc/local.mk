# etc/local.mk - the default configuration.  It is made from ehlod.conf.in
# with the install paths filled in, and installed only when no ehlod.conf
# is there yet: an admin's edits are never overwritten.
EXTRA_DIST += etc/ehlod.conf.in
noinst_DATA = etc/ehlod.conf
CLEANFILES += etc/ehlod.conf

etc/ehlod.conf: $(srcdir)/etc/ehlod.conf.in Makefile
	$(AM_V_GEN)$(MKDIR_P) etc && sed -e 's|@plugindir[@]|$(plugindir)|g' \
	    -e 's|@localstatedir[@]|$(localstatedir)|g' \
	    $(srcdir)/etc/ehlod.conf.in > $@

install-data-local: etc/ehlod.conf
	$(MKDIR_P) '$(DESTDIR)$(ehlodconfdir)'
	if test -f '$(DESTDIR)$(ehlodconfdir)/ehlod.conf'; then \
	    echo "keeping $(DESTDIR)$(ehlodconfdir)/ehlod.conf"; \
	else \
	    $(INSTALL_DATA) etc/ehlod.conf '$(DESTDIR)$(ehlodconfdir)/ehlod.conf'; \
	fi

uninstall-local:
	-cmp -s etc/ehlod.conf '$(DESTDIR)$(ehlodconfdir)/ehlod.conf' && \
	    rm -f '$(DESTDIR)$(ehlodconfdir)/ehlod.conf'

# fail2ban filter and jail example, for the admin to copy into
# /etc/fail2ban (proved by tests/interop/test_fail2ban.py).
fail2banfilterdir = $(datadir)/ehlod/fail2ban/filter.d
dist_fail2banfilter_DATA = etc/fail2ban/filter.d/ehlod.conf
fail2banjaildir = $(datadir)/ehlod/fail2ban/jail.d
dist_fail2banjail_DATA = etc/fail2ban/jail.d/ehlod.conf
