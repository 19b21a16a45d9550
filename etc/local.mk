# etc/local.mk - the default configuration.  It is made from ehlod.conf.in
# with the install paths filled in, and installed only when no ehlod.conf
# is there yet: an admin's edits are never overwritten.
EXTRA_DIST += etc/ehlod.conf.in etc/ehlod-milter.conf.in
noinst_DATA = etc/ehlod.conf etc/ehlod-milter.conf
CLEANFILES += etc/ehlod.conf etc/ehlod-milter.conf

etc/ehlod.conf: $(srcdir)/etc/ehlod.conf.in Makefile
	$(AM_V_GEN)$(MKDIR_P) etc && sed -e 's|@plugindir[@]|$(plugindir)|g' \
	    -e 's|@localstatedir[@]|$(localstatedir)|g' \
	    $(srcdir)/etc/ehlod.conf.in > $@

# ehlod-milter's own file: ehlod's enables maildir, which the milter refuses.
etc/ehlod-milter.conf: $(srcdir)/etc/ehlod-milter.conf.in Makefile
	$(AM_V_GEN)$(MKDIR_P) etc && sed -e 's|@plugindir[@]|$(plugindir)|g' \
	    $(srcdir)/etc/ehlod-milter.conf.in > $@

install-data-local: etc/ehlod.conf etc/ehlod-milter.conf
	$(MKDIR_P) '$(DESTDIR)$(ehlodconfdir)'
	for f in ehlod.conf ehlod-milter.conf; do \
	    if test -f "$(DESTDIR)$(ehlodconfdir)/$$f"; then \
	        echo "keeping $(DESTDIR)$(ehlodconfdir)/$$f"; \
	    else \
	        $(INSTALL_DATA) "etc/$$f" "$(DESTDIR)$(ehlodconfdir)/$$f"; \
	    fi; \
	done

uninstall-local:
	-for f in ehlod.conf ehlod-milter.conf; do \
	    cmp -s "etc/$$f" "$(DESTDIR)$(ehlodconfdir)/$$f" && \
	    rm -f "$(DESTDIR)$(ehlodconfdir)/$$f"; \
	done

# fail2ban filter and jail example, for the admin to copy into
# /etc/fail2ban (proved by tests/interop/test_fail2ban.py).
fail2banfilterdir = $(datadir)/ehlod/fail2ban/filter.d
dist_fail2banfilter_DATA = etc/fail2ban/filter.d/ehlod.conf
fail2banjaildir = $(datadir)/ehlod/fail2ban/jail.d
dist_fail2banjail_DATA = etc/fail2ban/jail.d/ehlod.conf

# The systemd unit and the logrotate snippet, with the install paths filled
# in.  The unit goes where systemd looks for units under the prefix.
systemdunitdir = $(prefix)/lib/systemd/system
systemdunit_DATA = etc/ehlod.service etc/ehlod-milter.service
logrotatedir = $(datadir)/ehlod/logrotate
logrotate_DATA = etc/ehlod.logrotate
EXTRA_DIST += etc/ehlod.service.in etc/ehlod-milter.service.in \
	etc/ehlod.logrotate.in
CLEANFILES += etc/ehlod.service etc/ehlod-milter.service etc/ehlod.logrotate

EHLOD_SUBST_PATHS = sed -e 's|@sbindir[@]|$(sbindir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|@localstatedir[@]|$(localstatedir)|g' \
	-e 's|@plugindir[@]|$(plugindir)|g' \
	-e 's|@datadir[@]|$(datadir)|g' \
	-e 's|@includedir[@]|$(includedir)|g' \
	-e 's|@libdir[@]|$(libdir)|g' \
	-e 's|@docdir[@]|$(docdir)|g' \
	-e 's|@prefix[@]|$(prefix)|g'

etc/ehlod.service: $(srcdir)/etc/ehlod.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) etc && $(EHLOD_SUBST_PATHS) \
	    $(srcdir)/etc/ehlod.service.in > $@

etc/ehlod-milter.service: $(srcdir)/etc/ehlod-milter.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) etc && $(EHLOD_SUBST_PATHS) \
	    $(srcdir)/etc/ehlod-milter.service.in > $@

etc/ehlod.logrotate: $(srcdir)/etc/ehlod.logrotate.in Makefile
	$(AM_V_GEN)$(MKDIR_P) etc && $(EHLOD_SUBST_PATHS) \
	    $(srcdir)/etc/ehlod.logrotate.in > $@

# Plugins are dlopen()ed by path: libtool's .la files are of no use there.
# The spool the shipped ehlod.conf delivers into, and the run directory
# its pid_file and status_socket examples name, exist from the start: the
# systemd unit can only open a directory to writing (ReadWritePaths) that
# is there when the service starts, and under the default prefix they lie
# below /usr, which the unit keeps read-only.
install-data-hook:
	rm -f '$(DESTDIR)$(plugindir)'/*.la
	$(MKDIR_P) '$(DESTDIR)$(localstatedir)/spool/ehlod' \
	    '$(DESTDIR)$(localstatedir)/run'

# libtool's uninstall finds a module's .so through its .la, which the hook
# above removed: remove the .so files by name.
uninstall-hook:
	for la in $(plugin_LTLIBRARIES); do \
	    rm -f "$(DESTDIR)$(plugindir)/`basename $$la .la`.so"; \
	done
