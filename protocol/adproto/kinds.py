"""Message kinds (the header's "kind" field); protocol/PROTOCOL.md describes each."""

# client -> daemon
HELLO = "hello"
BATCH = "batch"
CALLBACK_RETURN = "callback_return"
BYE = "bye"
PING = "ping"
CANCEL = "cancel"            # stop the session's running and queued batches (section 7.1)
STATUS = "status"            # the daemon's load (section 5.10)

# daemon -> client
WELCOME = "welcome"
RESULT = "result"
CALLBACK = "callback"
ERROR = "error"
PONG = "pong"
GOODBYE = "goodbye"
CHALLENGE = "challenge"      # prove the token before hello (or status) is answered (15.2)
REDIRECT = "redirect"        # a front door sends the client to a worker (section 5.11)
STATUS_REPLY = "status_reply"

CLIENT_KINDS = frozenset({HELLO, BATCH, CALLBACK_RETURN, BYE, PING, CANCEL, STATUS})
DAEMON_KINDS = frozenset({WELCOME, RESULT, CALLBACK, ERROR, PONG, GOODBYE, CHALLENGE,
                          REDIRECT, STATUS_REPLY})
