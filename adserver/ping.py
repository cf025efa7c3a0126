"""Ask a daemon whether it answers (``adserver ping``)."""
import zmq

import adproto
from adproto import kinds


def ping(address, timeout=5.0):
    """The daemon's pong body, or TimeoutError if none comes within ``timeout`` seconds."""
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    try:
        sock.connect(address)
        sock.send_multipart(adproto.encode(kinds.PING, {}, req=1))
        if not sock.poll(int(timeout * 1000)):
            raise TimeoutError(f"no answer from {address} within {timeout:g} s")
        header, body = adproto.decode(sock.recv_multipart())
        return body
    finally:
        sock.close(0)
