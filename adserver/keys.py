"""CURVE keys: ``adserver keygen DIR`` and the loading of key files on both sides.

A key file is a ZeroMQ certificate (the ZPL format of ``zmq.auth``): ``NAME.key`` holds the
public key, ``NAME.key_secret`` the public and the secret key, both Z85 text. keygen writes
every file with mode 0600 in a 0700 directory:

    DIR/server.key  DIR/server.key_secret  DIR/client.key  DIR/client.key_secret

The daemon takes ``--curve-secret-key DIR/server.key_secret``. A client needs the server's
public key: ``ADSERVER_CURVE_SERVER_KEY`` holds it (40 Z85 characters) or names a file that
does (``server.key``). A client's own key pair comes from ``ADSERVER_CURVE_CLIENT_KEY``
(a ``client.key_secret`` file) or, without it, is made afresh for each connection: the
daemon does not check client keys (clients prove themselves with the token instead).
"""
import datetime
import os

import zmq
import zmq.auth


class CurveKeyError(Exception):
    """A key file is missing, malformed, or readable by others."""


def _write(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode("ascii"))
    finally:
        os.close(fd)


def _cert(public, secret=None):
    lines = ["#   ZeroMQ CURVE " + ("secret" if secret else "public") + " certificate",
             f"#   written by adserver keygen, {datetime.date.today().isoformat()}",
             "metadata", "curve", f'    public-key = "{public.decode("ascii")}"']
    if secret:
        lines.append(f'    secret-key = "{secret.decode("ascii")}"')
    return "\n".join(lines) + "\n"


def keygen(directory, names=("server", "client"), force=False):
    """Write a key pair for each name into ``directory``; the paths written."""
    os.makedirs(directory, mode=0o700, exist_ok=True)
    os.chmod(directory, 0o700)
    written = []
    for name in names:
        pub_path = os.path.join(directory, f"{name}.key")
        sec_path = os.path.join(directory, f"{name}.key_secret")
        if not force and (os.path.exists(pub_path) or os.path.exists(sec_path)):
            raise FileExistsError(f"{pub_path} or {sec_path} exists already (use --force to "
                                  "replace the keys)")
        public, secret = zmq.curve_keypair()
        _write(pub_path, _cert(public))
        _write(sec_path, _cert(public, secret))
        written += [pub_path, sec_path]
    return written


def load_secret(path):
    """(public, secret) from a ``.key_secret`` file, which must not be readable by others."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise CurveKeyError(f"cannot read the key file {path}: {exc.strerror}") from None
    if st.st_mode & 0o077:
        raise CurveKeyError(f"the secret key file {path} is readable by others (mode "
                        f"{st.st_mode & 0o777:04o}); make it 0600: chmod 600 {path}")
    try:
        public, secret = zmq.auth.load_certificate(path)
    except Exception as exc:
        raise CurveKeyError(f"{path} is not a ZeroMQ certificate: {exc}") from None
    if not secret:
        raise CurveKeyError(f"{path} holds no secret key (a .key_secret file is needed)")
    return public, secret


def load_public(value):
    """A server public key from ``value``: 40 Z85 characters, or a file that holds one."""
    if value is None:
        return None
    value = value.strip()
    if len(value) == 40 and not os.path.exists(value):
        return value.encode("ascii")
    try:
        public, _ = zmq.auth.load_certificate(value)
    except Exception as exc:
        raise CurveKeyError(f"ADSERVER_CURVE_SERVER_KEY: {value!r} is neither a 40-character Z85 "
                        f"key nor a readable certificate file ({exc})") from None
    return public


def client_options(environ=None):
    """CURVE socket options for a client, from the environment; {} without a server key."""
    env = os.environ if environ is None else environ
    server = load_public(env.get("ADSERVER_CURVE_SERVER_KEY") or None)
    if server is None:
        return {}
    if env.get("ADSERVER_CURVE_CLIENT_KEY"):
        public, secret = load_secret(env["ADSERVER_CURVE_CLIENT_KEY"])
    else:
        public, secret = zmq.curve_keypair()
    return {zmq.CURVE_SERVERKEY: server, zmq.CURVE_PUBLICKEY: public,
            zmq.CURVE_SECRETKEY: secret}


def apply(sock, options):
    for opt, value in options.items():
        sock.setsockopt(opt, value)


def server_options(secret_path):
    """CURVE socket options for the daemon's ROUTER from its secret key file."""
    public, secret = load_secret(secret_path)
    return {zmq.CURVE_SERVER: 1, zmq.CURVE_PUBLICKEY: public, zmq.CURVE_SECRETKEY: secret}


def server_public(secret_path):
    return load_secret(secret_path)[0]
