"""Message kinds (the header's "kind" field); protocol/PROTOCOL.md describes each."""

# client -> daemon
HELLO = "hello"
BATCH = "batch"
CALLBACK_RETURN = "callback_return"
BYE = "bye"
PING = "ping"

# daemon -> client
WELCOME = "welcome"
RESULT = "result"
CALLBACK = "callback"
ERROR = "error"
PONG = "pong"
GOODBYE = "goodbye"

CLIENT_KINDS = frozenset({HELLO, BATCH, CALLBACK_RETURN, BYE, PING})
DAEMON_KINDS = frozenset({WELCOME, RESULT, CALLBACK, ERROR, PONG, GOODBYE})
