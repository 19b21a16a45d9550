-- milter_pending.lua - one RCPT through milterprobe, whose verdict may be
-- pending.  Globals from -D: port, rcpt, want ("continue", "replycode").
-- Run (several at once) by test_milter_miltertest.py, which times them.

local sock = "inet:" .. port .. "@127.0.0.1"

local function check(cond, what)
	if not cond then
		error("FAILED: " .. what)
	end
	print("ok: " .. what)
end

local wants = { continue = SMFIR_CONTINUE, replycode = SMFIR_REPLYCODE }
mt.set_timeout(30)
local conn = mt.connect(sock, 20, 0.25)
check(conn ~= nil, "connect to " .. sock)
check(mt.conninfo(conn, "client.example.com", "192.0.2.10") == nil, "conninfo")
check(mt.helo(conn, "client.example.com") == nil, "helo")
check(mt.mailfrom(conn, "<a@example.org>") == nil, "mail")
check(mt.rcptto(conn, "<" .. rcpt .. ">") == nil, "rcpt " .. rcpt)
check(mt.getreply(conn) == wants[want], "rcpt " .. rcpt .. ": " .. want)
if extra then
	-- The connection still works after the verdict.
	check(mt.rcptto(conn, "<" .. extra .. ">") == nil, "rcpt " .. extra)
	check(mt.getreply(conn) == SMFIR_CONTINUE, "rcpt " .. extra .. ": continue")
end
mt.disconnect(conn)
print("done")
