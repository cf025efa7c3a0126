"""CURVE keys: ``adserver keygen DIR`` and the loading of key files on both sides.

A key file is a ZeroMQ certificate (the ZPL format of ``zmq.auth``): ``NAME.key`` holds the
public key, ``NAME.key_secret`` the public and the secret key, both Z85 text. keygen writes
every file with mode 0600 in a 0700 directory (an existing one must be its user's own, and
writable by nobody else):

    DIR/server.key  DIR/server.key_secret  DIR/client.key  DIR/client.key_secret

The daemon takes ``--curve-secret-key DIR/server.key_secret``. A client needs the server's
public key: ``ADSERVER_CURVE_SERVER_KEY`` holds it (40 Z85 characters) or names a file that
does (``server.key``). A client's own key pair comes from ``ADSERVER_CURVE_CLIENT_KEY``
(a ``client.key_secret`` file) or, without it, is made afresh for each connection: the
daemon does not check client keys (clients prove themselves with the token instead).
"""
import datetime
import os
import stat

import zmq
import zmq.auth


class CurveKeyError(Exception):
    """A key file is missing, malformed, not its user's own, or readable by others; or the
    key directory is not private."""


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


def _key_directory(directory):
    """Make ``directory`` (0700), or check that the existing one is private enough to hold
    secret keys: this user's own, and writable by nobody else. An existing directory keeps
    its mode: ``adserver keygen /tmp`` must not chmod /tmp."""
    try:
        os.makedirs(directory, mode=0o700)
        return
    except FileExistsError:
        pass
    st = os.stat(directory)
    if not stat.S_ISDIR(st.st_mode):
        raise CurveKeyError(f"{directory} is not a directory")
    me = os.geteuid()
    if st.st_uid != me:
        raise CurveKeyError(f"the key directory {directory} belongs to uid {st.st_uid}, not "
                            f"to uid {me}; use a directory of your own")
    if st.st_mode & 0o022:
        raise CurveKeyError(f"the key directory {directory} is writable by others (mode "
                            f"{stat.S_IMODE(st.st_mode):04o}); use a private one (keygen makes "
                            "it 0700 if it does not exist)")


def keygen(directory, names=("server", "client"), force=False):
    """Write a key pair for each name into ``directory``; the paths written."""
    _key_directory(directory)
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
    """(public, secret) from a ``.key_secret`` file: a regular file of this user's that
    nobody else may read or write."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise CurveKeyError(f"cannot read the key file {path}: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise CurveKeyError(f"the secret key file {path} is not a regular file")
    me = os.geteuid()
    if st.st_uid != me:
        raise CurveKeyError(f"the secret key file {path} belongs to uid {st.st_uid}, not to "
                            f"uid {me} who runs this process; chown {me} {path}, or make "
                            "keys of your own (adserver keygen DIR)")
    if st.st_mode & 0o077:
        raise CurveKeyError(f"the secret key file {path} is open to others (mode "
                            f"{stat.S_IMODE(st.st_mode):04o}); make it 0600: chmod 600 {path}")
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
