"""Token authentication: the token file, and the HMAC challenge of PROTOCOL.md section 15.

The token is 32 random bytes, kept as 64 hex digits in a file only its owner can read
(mode 0600, in a 0700 directory). The daemon creates it on first start; a client on the
same machine and account finds it in the same place; a client elsewhere gets a copy and
names it with ``ADSERVER_TOKEN_FILE``. Where it lives, first match wins:

1. ``--token-file PATH`` (daemon) / the ``token_file`` argument (client);
2. ``$ADSERVER_TOKEN_FILE``;
3. ``$XDG_RUNTIME_DIR/adserver/token`` if ``XDG_RUNTIME_DIR`` names an existing directory;
4. ``~/.config/adserver/token``.

The token never crosses the wire. The daemon answers a ``hello`` (or a ``status``) that
carries no proof with a ``challenge``: a fresh 32-byte ``nonce``. The client picks its own
32-byte ``cnonce`` and sends the message again with
``auth = {nonce, cnonce, mac}``, where ``mac = HMAC-SHA256(token, "adserver-v1-hello" ||
nonce || cnonce)``. The daemon checks it (constant time; a nonce is good for the connection
it was sent to, within CHALLENGE_SECONDS, for one answer) and proves in
turn that it holds the token: ``welcome.proof =
HMAC-SHA256(token, "adserver-v1-welcome" || nonce || cnonce || session id)``. Nonces,
cnonces, macs and proofs travel as lowercase hex strings; the HMAC inputs are the raw bytes.

Used by the daemon (adserver.server), its front door (adserver.workers), ``adserver
status`` and the Python client (adclient.session).
"""
import hashlib
import hmac
import os
import secrets
import stat
import time
from collections import OrderedDict

HELLO_LABEL = b"adserver-v1-hello"
WELCOME_LABEL = b"adserver-v1-welcome"
NONCE_LABEL = b"adserver-v1-nonce"
CHALLENGE_SECONDS = 60.0      # a challenge must be answered within this time
MAX_USED_NONCES = 100_000     # answered nonces, remembered until they go stale
MAX_LATEST = 10_000           # connections whose last challenge voids their earlier ones
# A nonce's 32 bytes: when it was issued (milliseconds of the daemon's monotonic clock), a
# random salt, and a MAC of both and the connection's identity under the daemon's secret.
_ISSUED, _SALT, _TAG = 8, 8, 16


class TokenError(Exception):
    """The token file is missing, unreadable, malformed, not its user's own, or readable by
    others."""


# --- the token file ---------------------------------------------------------------------------
def default_token_path(environ=None):
    env = os.environ if environ is None else environ
    if env.get("ADSERVER_TOKEN_FILE"):
        return env["ADSERVER_TOKEN_FILE"]
    if env.get("XDG_RUNTIME_DIR") and os.path.isdir(env["XDG_RUNTIME_DIR"]):
        return os.path.join(env["XDG_RUNTIME_DIR"], "adserver", "token")
    return os.path.join(os.path.expanduser("~"), ".config", "adserver", "token")


def load_token(path=None):
    """The token's 32 bytes from ``path`` (default: ``default_token_path()``).

    The file must be a regular file that belongs to the user running this process (root
    included) and that nobody else may read or write: a token planted by another user would
    let that user's daemon pass for this user's, and a shared one is no secret.
    """
    path = path or default_token_path()
    try:
        # O_NONBLOCK: a FIFO planted at the path must not stall the open.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except FileNotFoundError:
        raise TokenError(f"no token file at {path} (the daemon writes one when it first "
                         "starts; elsewhere set ADSERVER_TOKEN_FILE to a copy of it)") from None
    except OSError as exc:
        raise TokenError(f"cannot read the token file {path}: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        _check_token_file(path, st)     # before reading: a FIFO or a device is not read
        text = os.read(fd, 4096).decode("ascii", "replace").strip()
    finally:
        os.close(fd)
    try:
        token = bytes.fromhex(text)
    except ValueError:
        token = b""
    if len(token) != 32:
        raise TokenError(f"the token file {path} does not hold 64 hex digits")
    return token


def _check_token_file(path, st):
    """TokenError unless ``st`` (the open token file's) is a private file of this user."""
    if not stat.S_ISREG(st.st_mode):
        raise TokenError(f"the token file {path} is not a regular file")
    me = os.geteuid()
    if st.st_uid != me:
        raise TokenError(f"the token file {path} belongs to uid {st.st_uid}, not to uid {me} "
                         f"who runs this process; use a token file of your own, or take this "
                         f"one: chown {me} {path}")
    if st.st_mode & 0o077:
        raise TokenError(f"the token file {path} is open to others (mode "
                         f"{stat.S_IMODE(st.st_mode):04o}); make it 0600: chmod 600 {path}")


def ensure_token(path=None):
    """The token at ``path``, made first (0600, directory 0700) if there is none.

    Safe when several daemons start at once: the file appears whole or not at all.
    """
    path = path or default_token_path()
    try:
        return load_token(path)
    except TokenError:
        if os.path.exists(path):
            raise
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, mode=0o700, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, (secrets.token_hex(32) + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)        # fails if another daemon got there first: then use its token
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)
    return load_token(path)


# --- the exchange --------------------------------------------------------------------------------
def hello_mac(token, nonce, cnonce):
    return hmac.new(token, HELLO_LABEL + nonce + cnonce, hashlib.sha256).hexdigest()


def welcome_proof(token, nonce, cnonce, sid):
    return hmac.new(token, WELCOME_LABEL + nonce + cnonce + sid.encode("ascii"),
                    hashlib.sha256).hexdigest()


def answer(token, challenge):
    """The ``auth`` map a client sends in answer to a ``challenge`` body."""
    nonce = _unhex(challenge.get("nonce"))
    if nonce is None:
        raise ValueError("the daemon's challenge has no valid nonce")
    cnonce = secrets.token_bytes(32)
    return {"nonce": nonce.hex(), "cnonce": cnonce.hex(), "mac": hello_mac(token, nonce, cnonce)}


def check_proof(token, auth, sid, proof):
    """Whether ``welcome.proof`` shows that the daemon holds the token."""
    if not isinstance(proof, str):
        return False
    want = welcome_proof(token, bytes.fromhex(auth["nonce"]), bytes.fromhex(auth["cnonce"]), sid)
    return hmac.compare_digest(want, proof)


def _unhex(v, size=32):
    if not isinstance(v, str):
        return None
    try:
        b = bytes.fromhex(v)
    except ValueError:
        return None
    return b if len(b) == size else None


class Gate:
    """The daemon's side: issues challenges, checks answers. ``token`` None: no auth.

    Challenges are stateless: a nonce carries when it was issued and a MAC, under a secret
    of this process, binding it to the connection it was sent to. A flood of hellos, from
    any number of connections, therefore fills no table and pushes out no other client's
    challenge. What the daemon remembers is the nonces that were answered (a nonce is good
    for one answer), until they are stale: a peer adds one entry per challenge it asked for
    and answered, and past MAX_USED_NONCES the oldest, nearly stale, are forgotten first.
    It also remembers, for up to MAX_LATEST connections, the last challenge each was sent,
    which voids the earlier ones; a flood can only make it forget that, which loosens the
    check to the stateless one and refuses no one.
    """

    def __init__(self, token):
        self.token = token
        self._secret = secrets.token_bytes(32)
        self._used = OrderedDict()         # nonce -> when it may be forgotten
        self._latest = OrderedDict()       # connection identity -> its last nonce's stamp

    @property
    def required(self):
        return self.token is not None

    def challenge(self, identity):
        """A fresh challenge body for the connection ``identity``."""
        issued = int(time.monotonic() * 1000).to_bytes(_ISSUED, "big")
        salt = secrets.token_bytes(_SALT)
        nonce = issued + salt + self._tag(identity, issued + salt)
        latest = self._latest
        latest.pop(identity, None)
        latest[identity] = issued + salt
        if len(latest) > MAX_LATEST:
            latest.popitem(last=False)
        return {"nonce": nonce.hex(), "method": "hmac-sha256"}

    def verify(self, identity, auth):
        """(nonce, cnonce) if ``auth`` answers this connection's challenge; else a reason."""
        if not isinstance(auth, dict):
            return None, "auth must be a map {nonce, cnonce, mac}"
        nonce, cnonce, mac = _unhex(auth.get("nonce")), _unhex(auth.get("cnonce")), \
            auth.get("mac")
        if nonce is None or cnonce is None or not isinstance(mac, str):
            return None, "auth needs nonce, cnonce (64 hex digits each) and mac"
        why = self._check_nonce(identity, nonce)
        if why is not None:
            return None, why
        self._remember(nonce)
        if not hmac.compare_digest(hello_mac(self.token, nonce, cnonce), mac.lower()):
            return None, ("the mac does not match: the client's token is not the daemon's "
                          "(check ADSERVER_TOKEN_FILE and the daemon's --token-file)")
        return (nonce, cnonce), None

    def proof(self, nonce, cnonce, sid):
        return welcome_proof(self.token, nonce, cnonce, sid)

    def _tag(self, identity, stamp):
        # (the identity's length first: no two (identity, stamp) pairs share an input)
        data = NONCE_LABEL + len(identity).to_bytes(2, "big") + identity + stamp
        return hmac.new(self._secret, data, hashlib.sha256).digest()[:_TAG]

    def _check_nonce(self, identity, nonce):
        """None if ``nonce`` was issued to ``identity``, is fresh and unused; else why not."""
        stamp, tag = nonce[:_ISSUED + _SALT], nonce[_ISSUED + _SALT:]
        if not hmac.compare_digest(tag, self._tag(identity, stamp)):
            return "the nonce is not one this daemon gave this connection"
        age = time.monotonic() - int.from_bytes(nonce[:_ISSUED], "big") / 1000
        if not -1.0 <= age <= CHALLENGE_SECONDS:
            return (f"the challenge expired (it must be answered within "
                    f"{CHALLENGE_SECONDS:g} s); send hello without auth for a new one")
        if nonce in self._used:
            return "the nonce was answered already; send hello without auth for a new one"
        last = self._latest.get(identity)
        if last is not None and not hmac.compare_digest(last, stamp):
            return "a newer challenge was sent to this connection; answer that one"
        return None

    def _remember(self, nonce):
        now = time.monotonic()
        used = self._used
        while used and (len(used) >= MAX_USED_NONCES or next(iter(used.values())) < now):
            used.popitem(last=False)
        used[nonce] = now + CHALLENGE_SECONDS + 1.0
