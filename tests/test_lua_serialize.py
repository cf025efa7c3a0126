"""torch.save / torch.load in Torch7's file format, binary and ascii, on real lupa engines
against a real daemon: golden bytes built here from the format's description, and round
trips of shared references, cycles, every tensor type and torch.class objects."""
import struct

import pytest

from adclient.session import Session
from adlua.host import Host

ENGINES = ["luajit21", "5.4"]


@pytest.fixture(params=ENGINES, scope="module")
def lua(request, tcp_daemon):
    host = Host(request.param, session=Session(tcp_daemon.address, client="adlua-serialize"))
    yield host
    host.close()


# --- Torch7's binary format, written out from File:writeObject's description -------------

def i32(n):
    return struct.pack("<i", n)


def i64(n):
    return struct.pack("<q", n)


def f64(x):
    return struct.pack("<d", x)


def string(s):
    return i32(2) + i32(len(s)) + s.encode()


def number(x):
    return i32(1) + f64(x)


def torch_header(index, name):
    return i32(4) + i32(index) + i32(3) + b"V 1" + i32(len(name)) + name.encode()


GOLDEN = (
    i32(3) + i32(1) + i32(4)                     # a table, object 1, of 4 pairs
    + number(1) + number(7)                      # [1] = 7
    + number(2) + string("ab")                   # [2] = 'ab'
    + number(3) + i32(3) + i32(2) + i32(1)       # [3] = a table, object 2, of 1 pair:
    + number(1) + i32(5) + i32(1)                #        [1] = true
    + number(4)                                  # [4] = a 2x3 DoubleTensor, object 3:
    + torch_header(3, "torch.DoubleTensor")
    + i32(2) + i64(2) + i64(3)                   #   nDimension, sizes
    + i64(3) + i64(1) + i64(1)                   #   strides, storageOffset (1-based)
    + torch_header(4, "torch.DoubleStorage")     #   its storage, object 4
    + i64(6) + b"".join(f64(v) for v in [1, 2, 3, 4, 5, 6])
)

OBJECT = "{7, 'ab', {true}, torch.Tensor({{1, 2, 3}, {4, 5, 6}})}"


def test_writes_the_golden_bytes(lua, tmp_path):
    path = tmp_path / "golden.t7"
    lua.lua.execute(f"torch.save('{path}', {OBJECT})")
    assert path.read_bytes() == GOLDEN
    # torch.serialize gives the same bytes as a Lua string
    assert lua.lua.execute(f"return #torch.serialize({OBJECT}) == {len(GOLDEN)}") is True


def test_reads_the_golden_bytes(lua, tmp_path):
    path = tmp_path / "golden.t7"
    path.write_bytes(GOLDEN)
    t = lua.lua.execute(f"""
        local o = torch.load('{path}')
        return {{o[1], o[2], o[3][1], torch.type(o[4]), o[4]:size(1), o[4]:size(2),
                 o[4][2][3], o[4][1][1], #o}}
    """)
    assert list(t.values()) == [7, "ab", True, "torch.DoubleTensor", 2, 3, 6, 1, 4]


def test_reads_a_tensor_view_by_its_strides_and_offset(lua, tmp_path):
    # a 2x2 tensor on a storage of 6, at offset 2 with strides (1, 2): a transposed window
    path = tmp_path / "view.t7"
    path.write_bytes(torch_header(1, "torch.FloatTensor") + i32(2) + i64(2) + i64(2)
                     + i64(1) + i64(2) + i64(2)
                     + torch_header(2, "torch.FloatStorage") + i64(6)
                     + b"".join(struct.pack("<f", v) for v in [0, 1, 2, 3, 4, 5]))
    t = lua.lua.execute(f"""
        local x = torch.load('{path}')
        return {{torch.type(x), x[1][1], x[1][2], x[2][1], x[2][2]}}
    """)
    assert list(t.values()) == ["torch.FloatTensor", 1, 3, 2, 4]


@pytest.mark.parametrize("mode", ["binary", "ascii"])
def test_round_trip_of_shared_references_cycles_and_values(lua, tmp_path, mode):
    path = tmp_path / f"nested.{mode}"
    t = lua.lua.execute(f"""
        local shared = {{1, 2.5, 'x'}}
        local x = torch.randn(3, 4)
        local o = {{a = shared, b = shared, nested = {{deeper = {{shared, x}}}}, x = x,
                   yes = true, no = false, s = 'line\\nbreak \\0 bytes', n = -3, big = 2^60,
                   tiny = 1e-300, [5] = 'five', [2.5] = 'key'}}
        o.self = o
        torch.save('{path}', o, '{mode}')
        local r = torch.load('{path}', '{mode}')
        return {{r.a == r.b, r.nested.deeper[1] == r.a, r.self == r, r.nested.deeper[2] == r.x,
                 torch.equal(r.x, x), r.yes, r.no, r.s == o.s, r.n, r.big == 2^60,
                 r.tiny == 1e-300, r[5], r[2.5], r.a[2], r.a[3]}}
    """)
    assert list(t.values()) == [True, True, True, True, True, True, False, True, -3, True,
                                True, "five", "key", 2.5, "x"]


@pytest.mark.parametrize("mode", ["binary", "ascii"])
def test_round_trip_of_every_tensor_type(lua, mode):
    t = lua.lua.execute(f"""
        local out = {{}}
        for _, name in ipairs({{'torch.DoubleTensor', 'torch.FloatTensor', 'torch.LongTensor',
                               'torch.IntTensor', 'torch.ShortTensor', 'torch.CharTensor',
                               'torch.ByteTensor'}}) do
          local x = torch.Tensor({{{{1, 100}}, {{-3, 4}}, {{5, 127}}}}):type(name)
          if name == 'torch.ByteTensor' then x = torch.Tensor({{{{1, 200}}, {{3, 4}}, {{5, 255}}}}):type(name) end
          if name == 'torch.DoubleTensor' then x[1][1] = 1 / 3 end
          local y = torch.deserialize(torch.serialize(x, '{mode}'), '{mode}')
          out[#out + 1] = torch.type(y) == name and torch.equal(x, y) and y:dim() == 2
        end
        return out
    """)
    assert list(t.values()) == [True] * 7


def test_round_trip_of_a_class_object_and_storages(lua, tmp_path):
    path = tmp_path / "obj.t7"
    t = lua.lua.execute(f"""
        if not torch.getmetatable('test.Layer') then
          local Layer = torch.class('test.Layer')
          function Layer:__init(n) self.weight = torch.ones(n); self.n = n end
          function Layer:double() return self.weight * 2 end
        end
        local layer = test.Layer(3)
        layer.me = layer
        torch.save('{path}', {{layer = layer, sizes = torch.LongStorage({{2, 3}})}})
        local r = torch.load('{path}')
        return {{torch.type(r.layer), r.layer.n, torch.sum(r.layer:double()), r.layer.me == r.layer,
                 torch.type(r.sizes), r.sizes[2], #r.sizes}}
    """)
    assert list(t.values()) == ["test.Layer", 3, 6, True, "torch.LongStorage", 3, 2]


def test_unreferenced_saves_copies(lua, tmp_path):
    path = tmp_path / "copies.t7"
    t = lua.lua.execute(f"""
        local shared = {{1}}
        torch.save('{path}', {{shared, shared}}, 'binary', false)
        local r = torch.load('{path}', 'binary', false)
        return r[1] ~= r[2], r[1][1], r[2][1]
    """)
    assert t == (True, 1, 1)


def test_errors_name_the_problem(lua, tmp_path):
    bad = tmp_path / "bad.t7"
    bad.write_bytes(i32(42))
    message = lua.lua.execute(f"""
        local ok, e1 = pcall(torch.load, '{bad}')
        local ok2, e2 = pcall(torch.save, '{tmp_path}/c.t7', {{f = coroutine.create(print)}})
        local ok3, e3 = pcall(torch.load, '{tmp_path}/missing.t7')
        return e1 .. '|' .. e2 .. '|' .. e3
    """)
    e1, e2, e3 = message.split("|")
    assert "unknown object type 42" in e1
    assert "Unwritable object <thread> at <?>.f" in e2
    assert "cannot open" in e3
