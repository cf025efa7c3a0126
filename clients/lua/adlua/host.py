"""The Python host of a Lua runtime: lupa engine, module loading, and the bridge to the daemon.

Lua sees one table, ``_ADLUA`` (the bridge), with the few functions the ``torch`` mirror
and ``autograd`` need: queue an op, fetch numbers or a printed tensor, upload data, and
push or pop a trace level. Each op's output is a ``Handle``: a Python object that Lua
holds as userdata. When Lua collects the tensor table, lupa drops its reference to the
Handle, and the Handle's finalizer queues a release for the next batch. That works on
every engine, including LuaJIT and Lua 5.1, whose tables have no ``__gc``.

Ctrl-C stops Lua code too, loops that never call into Python included (see ``_PRELUDE``):
``run_file`` and ``run_string`` raise KeyboardInterrupt. ``os.exit`` says bye to the daemon
before the process ends, and a tensor of a lost session raises SessionLost rather than
reaching a handle of the same number in the session that replaced it.
"""
import importlib
import os
import sys
import time

import numpy as np

from adproto import vocabulary
from adclient import interrupts
from adclient.errors import SessionLost
from adclient.session import Session
from adclient import replay
from . import torchprint

LUA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lua")

ENGINES = {
    "luajit21": "lupa.luajit21", "luajit20": "lupa.luajit20",
    "5.1": "lupa.lua51", "5.2": "lupa.lua52", "5.3": "lupa.lua53", "5.4": "lupa.lua54",
}
DEFAULT_ENGINE = "luajit21"

TYPENAMES = {
    "float64": "torch.DoubleTensor", "float32": "torch.FloatTensor",
    "int64": "torch.LongTensor", "int32": "torch.IntTensor", "int16": "torch.ShortTensor",
    "int8": "torch.CharTensor", "uint8": "torch.ByteTensor", "bool": "torch.ByteTensor",
}
DTYPES = {name: dtype for dtype, name in TYPENAMES.items() if dtype != "bool"}


class Handle:
    """A daemon handle owned by a Lua tensor; released when Lua lets go of it."""

    __slots__ = ("__adhandle__", "_session")

    def __init__(self, session, handle):
        self.__adhandle__ = handle
        self._session = session

    def __del__(self):
        try:
            self._session.release(self.__adhandle__)
        except Exception:
            pass

    def __repr__(self):
        return f"<handle {self.__adhandle__}>"


def load_engine(name):
    module = ENGINES.get(name)
    if module is None:
        raise ValueError(f"unknown Lua engine {name!r}; choose one of {', '.join(ENGINES)}")
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ValueError(f"Lua engine {name!r} is not available in this lupa build: {exc}")


def _tape_input(x):
    """A tape input from Lua: a tensor's Handle, or a differentiated number, which is a
    float whatever lupa made of it (an integral LuaJIT number arrives as an int)."""
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return float(x)
    return x


class Bridge:
    """What Lua calls. Kept small: the Lua side does the Torch-to-numpy translation.

    Never hand Lua the same Python object twice (no staticmethods or class attributes
    read from Lua, no cached objects returned): lupa 2.8 keys its wrappers by object
    address, and when an object is pushed again while its previous wrapper awaits
    finalization, that finalizer drops the reference the new wrapper relies on, and
    Lua ends up holding freed memory (a cached bound method "becomes" a tuple). Bound
    methods read from Lua are fresh objects each time, so they are safe.
    """

    def __init__(self, host):
        self.host = host
        self.rng = np.random.RandomState()
        self._lua_type = host.lua_type

    @property
    def session(self):
        return self.host.session

    # --- the process -----------------------------------------------------------------------
    def poll(self):
        """Called by Lua's hooks: Python's SIGINT handler runs on the way in, and raises
        the KeyboardInterrupt of a Ctrl-C that came while only Lua code ran."""

    def exit(self, code=True):
        """Lua's os.exit: say bye to the daemon (and stop a private one), then exit as Lua
        does, at once."""
        status = 0 if code is None or code is True else 1 if code is False else int(code)
        self.host.stdout.flush()
        sys.stderr.flush()
        self.host.close()
        os._exit(status)

    # --- ops -------------------------------------------------------------------------------
    def op(self, name, *args):
        s = self.session
        py = self._py
        return Handle(s, s.op(name, [py(a) for a in args]))

    def opk(self, name, kwargs, *args):
        s = self.session
        return Handle(s, s.op(name, [self._py(a) for a in args], self._kwargs(kwargs)))

    def opn(self, name, nout, *args):
        s = self.session
        handles = s.op(name, [self._py(a) for a in args], out=int(nout))
        return self.host.lua.table_from([Handle(s, h) for h in handles])

    def op0(self, name, *args):
        self.session.op(name, [self._py(a) for a in args], out=False)

    def index(self, spec):
        """A Lua index spec as a numpy index (a tuple) that Lua holds and passes to ops:
        each item a 0-based number, false (the whole dim), {start, stop} (a slice), or a
        Handle (an integer or boolean array), per dim."""
        # lupa unpacks a returned tuple into several Lua values; a 1-tuple around it
        # returns the tuple itself
        return (self._index(spec),)

    def _index(self, spec):
        index = []
        for item in self._py(spec):
            if item is False or item == "all":
                index.append(slice(None))
            elif isinstance(item, list):
                index.append(slice(int(item[0]), int(item[1])))
            elif isinstance(item, (int, float)):
                index.append(int(item))
            else:
                index.append(item)
        return tuple(index)

    def getitem(self, handle, spec):
        """x[index] with a Lua index spec (see ``index``)."""
        return self.op("getitem", handle, self._index(spec))

    def along(self, index, axis, shape):
        """The numpy index that puts ``index`` (a Handle of 0-based integers shaped
        ``shape``) on ``axis`` and an aranged column on every other axis: Torch7's
        gather/scatter addressing, as numpy's take_along_axis builds it."""
        axis = int(axis)
        sizes = [int(n) for n in self._py(shape)]
        nd = len(sizes)
        return (tuple(index if i == axis else
                      np.arange(n).reshape((1,) * i + (-1,) + (1,) * (nd - i - 1))
                      for i, n in enumerate(sizes)),)   # one Lua value (see index)

    def _kwargs(self, table):
        # An empty Lua table would read as an empty list; keyword arguments are a map.
        if table is None:
            return None
        return {str(k): self._py(v) for k, v in table.items()} or None

    def _py(self, value):
        """Lua tables become lists (array part) or dicts; everything else passes through."""
        if self._lua_type(value) != "table":
            if type(value) is Handle:
                self._own(value)
            return value
        n = len(value)
        keys = list(value.keys())
        if len(keys) == n and all(isinstance(k, (int, float)) for k in keys):
            return [self._py(value[i]) for i in range(1, n + 1)]
        return {str(k): self._py(v) for k, v in value.items()}

    def _own(self, handle):
        """``handle`` belongs to the current session: after a lost session, its number may
        name another value in the new one."""
        session = handle._session
        if session is not self.host._session:
            raise SessionLost(f"this tensor belongs to session {session.sid}, which is "
                              f"lost: its value is gone; compute it again")

    # --- values ------------------------------------------------------------------------------
    def numbers(self, *handles):
        """Fetch 0-d values as Lua numbers, all in one round trip."""
        s = self.session
        for h in handles:
            self._own(h)
        values, _ = s.sync(fetch=list(handles))
        return tuple(self.host.lua_number(v) for v in values)

    def tostring(self, handle, dtype):
        s = self.session
        self._own(handle)
        (value,), _ = s.sync(fetch=[handle])
        return torchprint.format_tensor(value, TYPENAMES.get(dtype, "torch.DoubleTensor"))

    def zero_gradient_ops(self):
        """The ops whose results are never traced, as a Lua set."""
        return self.host.lua.table_from({name: True for name in vocabulary.ZERO_GRADIENT})

    def vocabulary(self):
        """Every op name the daemon's vocabulary has, as a Lua set."""
        return self.host.lua.table_from({name: True for name in vocabulary.OPS})

    def format_storage(self, values, typename):
        """Torch7's tostring of a storage holding the Lua array ``values``."""
        flat = [values[i] for i in range(1, len(values) + 1)]
        return torchprint.format_storage(np.array(flat, dtype=np.float64), typename)

    def format_number(self, x):
        return torchprint.format_number(x)

    def meta(self, handle):
        s = self.session
        self._own(handle)
        _, (m,) = s.sync(meta=[handle])
        return self.host.lua.table_from(m[0]), m[1], m[2]

    def values(self, handle):
        """A tensor's values as a flat Lua array (row-major), numbers as lua_number
        makes them (integral values are integers on Lua 5.3+, which print without .0)."""
        s = self.session
        self._own(handle)
        (value,), _ = s.sync(fetch=[handle])
        flat = value.ravel()
        if self.host.integer_subtype and flat.dtype.kind == "f":
            items = [int(x) if x.is_integer() and abs(x) < 2 ** 53 else x
                     for x in flat.tolist()]
        else:
            items = flat.tolist()
        return self.host.lua.table_from(items)

    def now(self):
        """Seconds on a monotonic clock (torch.Timer)."""
        return time.perf_counter()

    def sync(self):
        self.session.sync()

    # --- data made here (random numbers use this process's seeded generator) ----------------
    def upload(self, flat, sizes, dtype):
        arr = np.asarray(self._py(flat), dtype=DTYPES.get(dtype, dtype))
        return self.op("array", arr.reshape([int(n) for n in self._py(sizes)]))

    def random(self, kind, sizes, dtype, a=None, b=None):
        """A tensor of random numbers drawn here, from the seeded generator (so a script's
        numbers depend only on its seed), uploaded as one array."""
        self._note_random()
        arr = self._draw(kind, tuple(int(n) for n in self._py(sizes)), a, b)
        return self.op("array", np.asarray(arr).astype(DTYPES.get(dtype, dtype)))

    def random_number(self, kind, a=None, b=None):
        """One random number (torch.uniform(), torch.normal(), ...), with no daemon op."""
        self._note_random()
        return self.host.lua_number(np.asarray(self._draw(kind, (), a, b), dtype=np.float64))

    def _note_random(self):
        recorder = self.session.recorder
        if recorder is not None:
            # drawn here and uploaded as a constant: a replayed tape would repeat the draw
            recorder.note("it draws random numbers (torch.rand, torch.randn, dropout, ...)")

    def _draw(self, kind, shape, a, b):
        rng = self.rng
        if kind == "randn":
            return rng.standard_normal(shape)
        if kind == "rand":
            return rng.random_sample(shape)
        if kind == "uniform":
            return rng.uniform(0.0 if a is None else a, 1.0 if b is None else b, shape)
        if kind == "normal":
            return rng.normal(0.0 if a is None else a, 1.0 if b is None else b, shape)
        if kind == "bernoulli":
            return rng.random_sample(shape) < (0.5 if a is None else a)
        if kind == "randperm":
            return rng.permutation(int(a)) + 1
        if kind == "random":
            # Torch7: random() draws from 1..2^31, random(b) from 1..b, random(a, b) from
            # a..b (bounds included)
            lo, hi = (1, 2 ** 31) if a is None else (1, a) if b is None else (a, b)
            return rng.randint(int(lo), int(hi) + 1, shape)
        raise ValueError(f"unknown random kind {kind!r}")

    def manual_seed(self, seed):
        self.rng.seed(int(seed) % (2 ** 32))

    # --- trace levels and passes --------------------------------------------------------------
    def push_level(self):
        return self.session.push_level()

    def pop_level(self, level):
        self.session.pop_level(int(level))

    def level(self):
        return self.session.level

    def vjp(self, end, starts, level):
        """Cotangents of the boxes ``starts`` for a scalar ``end``: a Lua array of Handles."""
        s = self.session
        handles = s.op("vjp", [end, None, self._py(starts), int(level)], {"scalar": True},
                       out=len(starts))
        return self.host.lua.table_from([Handle(s, h) for h in handles])

    # --- tapes: autograd's optimize option (adclient/replay.py does the bookkeeping) ----------
    def tape_begin(self, *inputs):
        """Start recording; (tape id, a Lua array of Handles bound to the inputs)."""
        s = self.session
        tape_id, handles = replay.begin(s, [_tape_input(x) for x in inputs])
        return tape_id, self.host.lua.table_from([Handle(s, h) for h in handles])

    def tape_pause(self):
        replay.pause(self.session)

    def tape_end(self, tape_id, *outputs):
        """Stop recording; (the Tape, or nil and the reason it cannot be replayed)."""
        s = self.session
        tape, verdict, reasons = replay.end(s, tape_id, list(outputs))
        (value,), _ = s.sync(fetch=[verdict])
        s.release(verdict)
        reason = replay.verdict_reason(value)
        if reason:
            reasons = reasons + [reason]
        if reasons:
            s.drop_tape(tape_id)
            return None, "; ".join(reasons)
        return tape, None

    def tape_abandon(self, tape_id):
        replay.abandon(self.session, tape_id)

    def tape_run(self, tape, n_out, *inputs):
        """Replay ``tape`` on ``inputs``: a Lua array of Handles, one per output (nil if
        the tape belongs to a session that has ended: record again)."""
        s = self.session
        if tape.session is not s:
            return None
        handles = tape.run([_tape_input(x) for x in inputs], int(n_out))
        return self.host.lua.table_from([Handle(s, h) for h in handles])

    def register_gradient(self, name, lua_handler):
        """A primitive id whose VJP requests call ``lua_handler(body)`` in Lua."""
        host = self.host

        def handler(body):
            lua_body = host.lua.table_from({
                "name": body["name"], "argnums": host.lua.table_from(body["argnums"]),
                "g": host.describe(body["g"]), "ans": host.describe(body["ans"]),
                "args": host.lua.table_from([host.describe(a) for a in body["args"]]),
            })
            grads = lua_handler(lua_body)
            return [self._grad_value(grads[i + 1]) for i in range(len(body["argnums"]))]

        return self.session.register_callback(handler)

    def _grad_value(self, g):
        if g is None:
            return None
        if isinstance(g, Handle):
            return g
        return g  # a number


class Host:
    """One Lua runtime, its bridge, and the daemon session it uses (started on first need)."""

    def __init__(self, engine=DEFAULT_ENGINE, address=None, stdout=None, session=None):
        lupa = load_engine(engine)
        interrupts.install()
        self.engine = engine
        self.lua = lupa.LuaRuntime(unpack_returned_tuples=True, register_eval=False)
        self.lua_type = lupa.lua_type
        self.address = address if address is not None else (
            os.environ.get("ADSERVER_ADDRESS") or None)
        self._session = session
        self.stdout = stdout or sys.stdout
        # Lua 5.3+ prints 81.0 for a float but 81 for an integer; LuaJIT and Torch7 print 81.
        # Integral values go to those engines as integers, so scripts print the same.
        self.integer_subtype = engine in ("5.3", "5.4")
        self.bridge = Bridge(self)
        g = self.lua.globals()
        g._ADLUA = self.bridge
        g._ADLUA_WRITE = self._write
        sep = ";"
        g.package.path = sep.join([os.path.join(LUA_DIR, "?.lua"),
                                   os.path.join(LUA_DIR, "?", "init.lua"), g.package.path])
        self.lua.eval("loadstring or load")(_PRELUDE, "=[adlua]")()

    @property
    def session(self):
        s = self._session
        if s is None or s.closed:
            if s is not None:
                s.raise_unreported_loss()   # once: its tensors are gone
            s = self._session = Session(self.address, client=f"adlua ({self.engine})")
            s.locator = None   # Lua ops are located by Lua's own traceback
        return s

    def _write(self, text):
        self.stdout.write(text)

    def lua_number(self, value):
        if value.dtype.kind == "b":
            return bool(value)
        x = float(value)
        if self.integer_subtype and x.is_integer() and abs(x) < 2 ** 53:
            return int(x)
        return x

    def describe(self, desc):
        """A callback's value description as a Lua tensor (or the constant itself)."""
        if "h" in desc:
            make = self.lua.globals().torch._fromhandle
            handle = Handle(self.session, desc["h"].handle)
            return make(handle, desc["level"], self.lua.table_from(desc["shape"]), desc["dtype"])
        return desc["c"]

    def run_file(self, path, args=()):
        with open(path, "rb") as f:
            source = f.read().decode("utf-8")
        if source.startswith("#!"):
            source = "--" + source
        return self._run(source, "@" + path, [path, *args])

    def run_string(self, source, name="=(command line)", args=()):
        return self._run(source, name, ["-e", *args])

    def _run(self, source, chunkname, argv):
        """(ok, error message) of a run; a Ctrl-C raises KeyboardInterrupt."""
        run = self.lua.globals()._ADLUA_RUN
        arg = self.lua.table_from({i: v for i, v in enumerate(argv)})
        ctrl_cs = interrupts.state.count
        ok, message = run(source, chunkname, arg)
        # A Lua pcall on the way may have turned the KeyboardInterrupt into a string; the
        # count of Ctrl-Cs still tells.
        if not ok and (isinstance(message, KeyboardInterrupt) or
                       interrupts.state.count != ctrl_cs):
            raise KeyboardInterrupt
        return ok, message

    def close(self):
        if self._session is not None:
            self._session.close()
            self._session = None


# Lua's print goes to Python's stdout (so output order is Python's); `torch` is a global,
# as under Torch7's `th`; scripts run under xpcall so errors carry Lua's traceback.
_PRELUDE = r"""
local write = _ADLUA_WRITE
local tostring, select, concat = tostring, select, table.concat
function print(...)
  local n = select('#', ...)
  local parts = {}
  for i = 1, n do parts[i] = tostring((select(i, ...))) end
  write(concat(parts, '\t') .. '\n')
end
io.write = function(...)
  local n = select('#', ...)
  for i = 1, n do write(tostring((select(i, ...)))) end
end
torch = require 'torch'

-- os.exit says bye to the daemon first: otherwise a shared daemon keeps the session (and
-- its memory) until its lease runs out.
os.exit = function(code) _ADLUA.exit(code) end

-- Ctrl-C. Python's SIGINT handler runs only when Python code runs, and a pure-Lua loop
-- runs none. So while a chunk runs, a count hook calls into Python every HOOK_COUNT
-- instructions, where a pending Ctrl-C raises its KeyboardInterrupt as a Lua error.
-- LuaJIT's compiled loops call no hook, but they do leave their trace at each sample of
-- LuaJIT's profiler (every 100 ms of CPU time): a sample asks Python too, and if a Ctrl-C
-- came, arms the hook to raise at the next instruction of the interrupted code. (Hooks
-- set inside a sample are undone after it, except their function and count: hence the
-- count hook that is always there.)
local poll, sethook = _ADLUA.poll, debug.sethook
local HOOK_COUNT = 1000000
local function guard() poll() end
local profile = jit and select(2, pcall(require, 'jit.profile'))
if type(profile) ~= 'table' then profile = nil end
local sampler, interrupt
local function raise_interrupt()
  if coroutine.running() == sampler then return end   -- still inside the sample
  local e = interrupt
  interrupt = nil
  sethook(guard, '', HOOK_COUNT)
  error(e, 0)
end
local function sample()
  sampler = coroutine.running()
  local ok, e = pcall(poll)
  if not ok then
    interrupt = e
    sethook(raise_interrupt, '', 1)
  end
end
local watching = 0
local function watch()
  watching = watching + 1
  if watching > 1 then return end
  sethook(guard, '', HOOK_COUNT)
  if profile then profile.start('li100', sample) end
end
local function unwatch()
  watching = watching - 1
  if watching > 0 then return end
  if profile then profile.stop() end
  sethook()
end

local load = loadstring or load
function _ADLUA_RUN(source, chunkname, argv)
  local chunk, err = load(source, chunkname)
  if not chunk then return false, err end
  arg = argv
  local unpack = unpack or table.unpack
  local n = 0
  while argv[n + 1] ~= nil do n = n + 1 end
  local args = {}
  for i = 1, n do args[i] = argv[i] end
  watch()
  local ok, err = xpcall(function() return chunk(unpack(args, 1, n)) end, debug.traceback)
  unwatch()
  return ok, err
end
"""
