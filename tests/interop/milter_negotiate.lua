-- milter_negotiate.lua - with only the "delay" test plugin loaded (hooks
-- on_connect and on_rcpt), ehlod-milter asks the MTA only for the steps
-- it needs, and the actions of header changes; delay's RCPT verdict
-- arrives after its timer.  Run by test_milter_miltertest.py.

local sock = "inet:" .. port .. "@127.0.0.1"

local function check(cond, what)
	if not cond then
		error("FAILED: " .. what)
	end
	print("ok: " .. what)
end

local conn = mt.connect(sock, 20, 0.25)
check(conn ~= nil, "connect to " .. sock)
check(mt.negotiate(conn, nil, nil, nil) == nil, "negotiate")
for _, o in ipairs({ { SMFIP_NOHDRS, "NOHDRS" }, { SMFIP_NOBODY, "NOBODY" },
    { SMFIP_NOEOH, "NOEOH" }, { SMFIP_NOUNKNOWN, "NOUNKNOWN" } }) do
	check(mt.test_option(conn, o[1]), "declines " .. o[2])
end
for _, o in ipairs({ { SMFIP_NOCONNECT, "NOCONNECT" },
    { SMFIP_NOHELO, "NOHELO" }, { SMFIP_NOMAIL, "NOMAIL" },
    { SMFIP_NORCPT, "NORCPT" } }) do
	check(not mt.test_option(conn, o[1]), "keeps the step of " .. o[2])
end
check(mt.test_action(conn, SMFIF_ADDHDRS), "asks for SMFIF_ADDHDRS")
check(mt.test_action(conn, SMFIF_CHGHDRS), "asks for SMFIF_CHGHDRS")
check(not mt.test_action(conn, SMFIF_CHGBODY), "does not ask for SMFIF_CHGBODY")
check(mt.conninfo(conn, "client.example.com", "192.0.2.9") == nil, "conninfo")
check(mt.getreply(conn) == SMFIR_CONTINUE, "connect: continue")
check(mt.helo(conn, "client.example.com") == nil, "helo")
check(mt.mailfrom(conn, "<a@example.org>") == nil, "mail")
check(mt.rcptto(conn, "<b@example.org>") == nil, "rcpt")
check(mt.getreply(conn) == SMFIR_REPLYCODE, "rcpt: delay's pending reject arrives")
mt.disconnect(conn)
