-- milter_connect.lua - one connection from a chosen client address, and
-- the verdict on it.  Globals from -D: port, ip, want ("continue",
-- "replycode").  Run by test_milter_miltertest.py (dnsbl in milter mode).

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
check(mt.conninfo(conn, "client.example.com", ip) == nil, "conninfo " .. ip)
check(mt.getreply(conn) == wants[want], "connect from " .. ip .. ": " .. want)
mt.disconnect(conn)
