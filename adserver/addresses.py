"""Listen addresses: who each kind lets in, and binding the daemon's socket so that it holds.

Who can connect depends on the address:

- ``ipc://PATH``: whoever may write the socket file (connecting to a Unix socket needs
  write permission on it). The daemon makes the socket 0600, whatever the umask, in a
  directory that must belong to it (or to root) and that nobody else may write, so that
  only its own user can connect and nobody can replace the socket with another.
- ``ipc://@NAME``: an abstract socket (Linux). It has no file, hence no permissions: every
  local user can connect, so the daemon requires the token there.
- ``tcp://HOST:PORT``: every local user when every address HOST resolves to is loopback;
  other hosts otherwise, which the daemon allows only with CURVE and the token both on.
- ``inproc://NAME``: this process only.
"""
import ipaddress
import os
import socket
import stat

import zmq


class AddressError(ValueError):
    """An address that is malformed, or that the daemon refuses to listen on."""


SHAPES = "tcp://HOST:PORT, ipc://PATH or ipc://@NAME"


# --- the shape of an address ------------------------------------------------------------------
def transport(address):
    """"tcp", "ipc" or "inproc"; AddressError for anything else or an empty rest."""
    if not isinstance(address, str):
        raise AddressError(f"not a ZeroMQ address: {address!r} (expected {SHAPES})")
    for name in ("tcp", "ipc", "inproc"):
        prefix = name + "://"
        if address.startswith(prefix) and len(address) > len(prefix):
            return name
    raise AddressError(f"not a ZeroMQ address: {address!r} (expected {SHAPES})")


def tcp_host_port(address):
    """(host, port) of ``tcp://HOST:PORT``: host without IPv6 brackets, port a string
    ("*" or 0 to 65535)."""
    rest = address[len("tcp://"):]
    host, sep, port = rest.rpartition(":")
    if not sep or not host or not port:
        raise AddressError(f"{address!r} needs a host and a port: tcp://HOST:PORT")
    if host.startswith("[") != host.endswith("]"):
        raise AddressError(f"{address!r}: an IPv6 host goes in brackets, tcp://[::1]:PORT")
    if port != "*" and not (port.isdigit() and 0 <= int(port) <= 65535):
        raise AddressError(f"{address!r}: the port must be 0 to 65535, or *")
    return host[1:-1] if host.startswith("[") else host, port


def check_syntax(address):
    """The transport of ``address``, once it is known to be well formed."""
    kind = transport(address)
    if kind == "tcp":
        tcp_host_port(address)
    return kind


def is_abstract_ipc(address):
    return address.startswith("ipc://@")


def ipc_path(address):
    """The socket file of an ``ipc://PATH`` address; None for other addresses, abstract
    ones included (they have no file)."""
    if address.startswith("ipc://") and not is_abstract_ipc(address):
        return address[len("ipc://"):]
    return None


def absolute(address):
    """``address`` with a relative ipc path made absolute, so that a process started in
    another directory (a worker) finds the same socket."""
    path = ipc_path(address)
    return f"ipc://{os.path.abspath(path)}" if path else address


# --- loopback -----------------------------------------------------------------------------------
def is_loopback_ip(text):
    """Whether ``text`` is a loopback IP address (127.0.0.0/8, ::1, or ::ffff:127.x.y.z)."""
    try:
        ip = ipaddress.ip_address(str(text).split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)   # ::ffff:127.0.0.1 is IPv4's loopback
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


def resolves_to_loopback(host):
    """Whether every address ``host`` resolves to is loopback. A name that does not
    resolve, and the wildcards ``*``, ``0.0.0.0`` and ``::``, are not."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, ValueError):
        return False
    return bool(infos) and all(is_loopback_ip(info[4][0]) for info in infos)


def is_local_address(address):
    """ipc://, inproc://, or TCP on a host that resolves to loopback addresses only."""
    try:
        kind = check_syntax(address)
    except AddressError:
        return False
    if kind in ("ipc", "inproc"):
        return True
    return resolves_to_loopback(tcp_host_port(address)[0])


def loopback_peer(frames):
    """Whether the message whose frames these are came over loopback TCP (ZeroMQ's
    Peer-Address of its first frame)."""
    try:
        peer = frames[0].get("Peer-Address")
    except Exception:
        return False
    return is_loopback_ip(peer)


# --- what the daemon listens on -------------------------------------------------------------
def default_auth(address):
    """What ``--auth auto`` means on ``address``: the token everywhere but on an ipc
    socket file (its permissions let in only its owner) and inproc."""
    return "none" if ipc_path(address) or address.startswith("inproc://") else "token"


def check_listen(address, token, curve):
    """AddressError unless the daemon may listen on ``address`` with the token required
    (``token``) and CURVE on (``curve``) or not."""
    kind = check_syntax(address)
    path = ipc_path(address)
    if path:
        check_private_directory(os.path.dirname(os.path.abspath(path)))
    if is_abstract_ipc(address) and not token:
        raise AddressError(
            f"refusing to listen on {address} without the token: an abstract ipc socket has "
            "no file permissions, so every local user can connect (use --auth token, or an "
            "ipc://PATH in a directory of your own)")
    if kind == "tcp" and not is_local_address(address) and not (token and curve):
        raise AddressError(
            f"refusing to listen on {address}: it is not loopback (the host must resolve to "
            "loopback addresses only), and an address other than loopback or ipc needs "
            "CURVE encryption (--curve-secret-key FILE, made by 'adserver keygen DIR') and "
            "token authentication (--auth token)")
    return kind


def bind(sock, address, token, curve):
    """Bind the ROUTER ``sock`` to ``address`` after ``check_listen``; the endpoint bound.

    An ipc socket file is made 0600 in a private directory (see ``_bind_ipc``). A TCP
    socket is checked once more after binding, on the address actually bound: a name can
    resolve differently by then.
    """
    kind = check_listen(address, token, curve)
    if kind == "tcp" and tcp_host_port(address)[0].count(":"):
        sock.setsockopt(zmq.IPV6, 1)     # ZeroMQ binds an IPv6 literal only with IPV6 on
    path = ipc_path(address)
    if path:
        _bind_ipc(sock, address, path)
    else:
        sock.bind(address)
    endpoint = sock.getsockopt_string(zmq.LAST_ENDPOINT)
    if kind == "tcp" and not (token and curve) and not _bound_to_loopback(endpoint):
        sock.unbind(endpoint)
        raise AddressError(f"refusing to listen on {address}: it was bound to {endpoint}, "
                           "which is not loopback")
    return endpoint


def _bound_to_loopback(endpoint):
    return is_loopback_ip(tcp_host_port(endpoint)[0])


# --- ipc socket files ---------------------------------------------------------------------------
def _bind_ipc(sock, address, path):
    _check_free(path)
    # The socket file is made with the process's umask; under umask 000 it would be 0777,
    # open to every local user. os.umask is process-wide: the daemon binds before it
    # starts any thread that makes files.
    old = os.umask(0o077)
    try:
        sock.bind(address)
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    _check_socket_file(path)


def check_private_directory(directory):
    """AddressError unless ``directory`` exists, belongs to this user (or root), and no
    one else may write it (anyone who can would be able to replace the socket)."""
    try:
        st = os.stat(directory)
    except OSError as exc:
        raise AddressError(f"cannot use the directory {directory} for an ipc socket: "
                           f"{exc.strerror} (make it with: mkdir -m 700 {directory})") from None
    if not stat.S_ISDIR(st.st_mode):
        raise AddressError(f"{directory} is not a directory")
    me = os.geteuid()
    if st.st_uid not in (me, 0):
        raise AddressError(f"the ipc socket's directory {directory} belongs to uid "
                           f"{st.st_uid}, who could replace the socket; use a directory of "
                           f"your own (uid {me}), e.g. mkdir -m 700 DIR")
    if st.st_mode & 0o022:
        raise AddressError(f"the ipc socket's directory {directory} is writable by others "
                           f"(mode {stat.S_IMODE(st.st_mode):04o}), who could replace the "
                           "socket; use a directory only you can write, e.g. mkdir -m 700 "
                           "DIR, or $XDG_RUNTIME_DIR")


def _check_free(path):
    """AddressError if ZeroMQ's bind would delete something at ``path`` that matters: it
    unlinks whatever is there first, be it a file or the socket of a running daemon."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise AddressError(f"{path} exists and is not a socket; binding would delete it")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(5.0)
        probe.connect(path)
    except OSError:
        return                      # a socket left behind by a daemon that is gone
    finally:
        probe.close()
    raise AddressError(f"another process is listening on {path} (is a daemon running there "
                       "already?)")


def _check_socket_file(path):
    st = os.lstat(path)
    if (not stat.S_ISSOCK(st.st_mode) or st.st_uid != os.geteuid()
            or st.st_mode & 0o077):
        raise AddressError(f"the ipc socket {path} is not a private socket after binding "
                           f"(mode {stat.S_IMODE(st.st_mode):04o}, uid {st.st_uid})")
