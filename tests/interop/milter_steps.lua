-- milter_steps.lua - drive every libmilter callback of ehlod-milter with
-- the milterprobe test plugin and check each verdict and header change.
-- Run by test_milter_miltertest.py: miltertest -D port=N -s milter_steps.lua
-- (the milter is already listening on inet:N@127.0.0.1).

local sock = "inet:" .. port .. "@127.0.0.1"

local function check(cond, what)
	if not cond then
		error("FAILED: " .. what)
	end
	print("ok: " .. what)
end

local function step(result, name)
	if result ~= nil then
		error("FAILED: " .. name .. ": " .. tostring(result))
	end
end

local function reply_is(conn, want, what)
	check(mt.getreply(conn) == want, what)
end

local function open_conn(ip)
	local conn = mt.connect(sock, 20, 0.25)
	check(conn ~= nil, "connect to " .. sock)
	mt.macro(conn, SMFIC_CONNECT, "j", "mx.example.net",
	    "{client_port}", "40000", "{daemon_addr}", "192.0.2.25",
	    "{daemon_port}", "25")
	step(mt.conninfo(conn, "client.example.com", ip), "conninfo")
	return conn
end

-- 1. A transaction through every step, accepted, with header changes.
local conn = open_conn("192.0.2.7")
reply_is(conn, SMFIR_CONTINUE, "connect: continue")
mt.macro(conn, SMFIC_HELO, "{tls_version}", "TLSv1.3",
    "{cipher}", "TLS_AES_256_GCM_SHA384")
step(mt.helo(conn, "client.example.com"), "helo")
reply_is(conn, SMFIR_CONTINUE, "helo: continue")
mt.macro(conn, SMFIC_MAIL, "i", "4QUEUEID", "{auth_authen}", "alice",
    "{auth_type}", "PLAIN")
step(mt.mailfrom(conn, "<sender@example.org>", "BODY=8BITMIME"), "mail")
reply_is(conn, SMFIR_CONTINUE, "mail: continue")
step(mt.rcptto(conn, "<bad@example.org>"), "rcpt bad")
reply_is(conn, SMFIR_REPLYCODE, "rcpt in reject_rcpt: rejected with the plugin's reply")
step(mt.rcptto(conn, "<later@example.org>"), "rcpt later")
reply_is(conn, SMFIR_REPLYCODE, "rcpt in tempfail_rcpt: tempfailed with the plugin's reply")
step(mt.rcptto(conn, "<good@example.org>"), "rcpt good")
reply_is(conn, SMFIR_CONTINUE, "rcpt good: continue")
step(mt.data(conn), "data")
reply_is(conn, SMFIR_CONTINUE, "data: continue")
step(mt.header(conn, "From", "sender@example.org"), "header From")
reply_is(conn, SMFIR_CONTINUE, "header: continue")
step(mt.header(conn, "Subject", "hello"), "header Subject")
step(mt.header(conn, "X-Probe-Delete", "remove me"), "header X-Probe-Delete")
step(mt.eoh(conn), "eoh")
reply_is(conn, SMFIR_CONTINUE, "eoh: continue")
step(mt.bodystring(conn, "Hello world\r\n"), "body")
reply_is(conn, SMFIR_CONTINUE, "body: continue")
step(mt.eom(conn), "eom")
reply_is(conn, SMFIR_CONTINUE, "eom: continue (the MTA delivers)")
check(mt.eom_check(conn, MT_HDRADD, "X-Ehlod-Probe"), "eom: X-Ehlod-Probe added")
check(mt.eom_check(conn, MT_HDRINSERT, "X-Probe-First", "yes", 0),
    "eom: X-Probe-First inserted at index 0")
check(mt.eom_check(conn, MT_HDRCHANGE, "Subject", "[probe] hello"),
    "eom: Subject changed")
check(mt.eom_check(conn, MT_HDRDELETE, "X-Probe-Delete"),
    "eom: X-Probe-Delete deleted")
local v = mt.getheader(conn, "X-Ehlod-Probe", 0)
check(v ~= nil, "eom: X-Ehlod-Probe readable")
print("X-Ehlod-Probe: " .. v)
local want = {
	"host=ehlod%-milter", "helo=client%.example%.com",
	"client=192%.0%.2%.7", "name=client%.example%.com",
	"from=<sender@example%.org>", "rcpts=1 ", "first=<good@example%.org>",
	"id=4QUEUEID", "tls=TLSv1%.3", "cipher=TLS_AES_256_GCM_SHA384",
	"auth=alice", "mech=PLAIN", "headers=3", "eoh=1", "data=1",
	"body=13", "read=",
}
for _, w in ipairs(want) do
	check(string.find(v, w) ~= nil, "probe header has " .. w)
end
-- Headers as delivered: "From: ...\r\n" 26, "Subject: hello\r\n" 16,
-- "X-Probe-Delete: remove me\r\n" 27, blank line 2, body 13.
check(string.find(v, "read=84") ~= nil, "message_read gave the whole message")

-- 2. A recipient in discard_rcpt discards the message.
mt.macro(conn, SMFIC_MAIL, "i", "4SECOND")
step(mt.mailfrom(conn, "<sender@example.org>"), "mail 2")
reply_is(conn, SMFIR_CONTINUE, "mail 2: continue")
step(mt.rcptto(conn, "<drop@example.org>"), "rcpt drop")
reply_is(conn, SMFIR_DISCARD, "rcpt in discard_rcpt: discard")
step(mt.abort(conn), "abort")

-- 3. A sender in reject_from.
step(mt.mailfrom(conn, "<spammer@example.net>"), "mail spammer")
reply_is(conn, SMFIR_REPLYCODE, "mail in reject_from: rejected with the plugin's reply")

-- 4. A header the plugin refuses.
step(mt.mailfrom(conn, "<sender@example.org>"), "mail 4")
step(mt.rcptto(conn, "<good@example.org>"), "rcpt 4")
step(mt.data(conn), "data 4")
step(mt.header(conn, "X-Probe-Reject", "yes"), "header X-Probe-Reject")
reply_is(conn, SMFIR_REPLYCODE, "header reject_header: rejected with the plugin's reply")
step(mt.abort(conn), "abort 4")

-- 5. A body with the marker: a multi-line reply at end of message, and
-- no header change.
step(mt.mailfrom(conn, "<sender@example.org>"), "mail 5")
step(mt.rcptto(conn, "<good@example.org>"), "rcpt 5")
step(mt.header(conn, "Subject", "multi"), "header 5")
step(mt.eoh(conn), "eoh 5")
step(mt.bodystring(conn, "PROBE-MULTILINE\r\n"), "body 5")
step(mt.eom(conn), "eom 5")
reply_is(conn, SMFIR_REPLYCODE, "eom with marker: rejected with the plugin's reply")
check(not mt.eom_check(conn, MT_HDRADD), "eom rejected: no header added")

-- 6. An unknown command.
step(mt.unknown(conn, "XFOO bar"), "unknown")
reply_is(conn, SMFIR_REPLYCODE, "unknown command: rejected with the plugin's reply")
mt.disconnect(conn)

-- 7. A client in reject_client is refused at connect.
conn = open_conn("192.0.2.66")
reply_is(conn, SMFIR_REPLYCODE, "connect from reject_client: rejected with the plugin's reply")
mt.disconnect(conn)

-- 8. A HELO name in reject_helo.
conn = open_conn("192.0.2.8")
step(mt.helo(conn, "bad.helo.example"), "helo bad")
reply_is(conn, SMFIR_REPLYCODE, "helo in reject_helo: rejected with the plugin's reply")
mt.disconnect(conn)
print("all steps checked")
