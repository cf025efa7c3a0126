"""The daemon's session state machine, driven directly: batches, callbacks, deferred errors."""
import numpy as np
import pytest

from adproto import Ref, kinds
from adserver.limits import Limits
from adserver.session import Session


def new_session(**limits):
    return Session("sid", b"id", Limits(**limits))


def sync(s, ops, fetch=(), req=1):
    return s.on_batch({"ops": ops, "sync": True, "fetch": [Ref(h) for h in fetch]}, req)


def traced_custom(s, x_value, prim=1, start_seq=1):
    """Ops for: level 1, box x, custom prim on it, pop, vjp. Output grad handle is 9."""
    n = start_seq
    return [
        [n, "trace.push", None, [1], None],
        [n + 1, "box", 2, [np.asarray(x_value), 1], None],
        [n + 2, "custom", 3, [np.asarray(x_value) ** 2, Ref(2)], {"prim": prim, "name": "sq"}],
        [n + 3, "sum", 4, [Ref(3)], None],
        [n + 4, "trace.pop", None, [1], None],
        [n + 5, "vjp", [9], [Ref(4), None, [Ref(2)], 1], {"scalar": True}],
    ]


def test_callback_suspends_the_batch_and_resumes_it():
    s = new_session()
    out = sync(s, traced_custom(s, [1.0, 2.0]), fetch=[9])
    (kind, body), = out
    assert kind == kinds.CALLBACK and body["name"] == "sq" and body["argnums"] == [0]
    g = body["g"]["h"].handle
    x = body["args"][0]["h"].handle
    assert g < 0 and x < 0 and body["args"][0]["shape"] == [2]
    # The client's gradient function issues its own ops, then returns.
    assert s.on_batch({"ops": [[7, "multiply", 20, [Ref(g), Ref(x)], None],
                               [8, "multiply", 21, [Ref(20), 2.0], None]]}, None) == []
    (kind, body, req), = s.on_callback_return({"cb": body["cb"], "grads": [Ref(21)]})
    assert kind == kinds.RESULT and req == 1 and body["error"] is None
    np.testing.assert_array_equal(body["values"][0], [2.0, 4.0])


def test_nested_callbacks_resume_innermost_first():
    s = new_session()
    (_, outer), = sync(s, traced_custom(s, [3.0], prim=1), fetch=[9])
    # Inside the outer callback, the client runs a second traced pass with its own prim.
    (_, inner), = sync(s, traced_custom(s, [5.0], prim=2, start_seq=20)[:-1] +
                       [[26, "vjp", [30], [Ref(4), None, [Ref(2)], 1], {"scalar": True}]],
                       fetch=[30], req=2)
    assert inner["prim"] == 2 and inner["cb"] != outer["cb"]
    with_wrong_cb = s.on_callback_return({"cb": outer["cb"], "grads": [None]})
    assert with_wrong_cb[0][0] == kinds.ERROR
    (kind, body, req), = s.on_callback_return(
        {"cb": inner["cb"], "grads": [np.asarray([10.0])]})
    assert (kind, req) == (kinds.RESULT, 2)
    np.testing.assert_array_equal(body["values"][0], [10.0])
    (kind, body, req), = s.on_callback_return({"cb": outer["cb"], "grads": [np.asarray([6.0])]})
    assert (kind, req) == (kinds.RESULT, 1)
    np.testing.assert_array_equal(body["values"][0], [6.0])


def test_failed_callback_poisons_the_gradient_and_is_reported():
    s = new_session()
    (_, cb), = sync(s, traced_custom(s, [1.0]), fetch=[9])
    (kind, body, _), = s.on_callback_return(
        {"cb": cb["cb"], "grads": [], "error": {"message": "ZeroDivisionError: boom"}})
    assert body["error"]["type"] == "CallbackError"
    assert "gradient function of 'sq' failed in the client: ZeroDivisionError: boom" in \
        body["error"]["message"]
    assert body["values"] == [None]


def test_callback_depth_limit():
    s = new_session(max_callback_depth=0)
    (kind, body, _), = sync(s, traced_custom(s, [1.0]), fetch=[9])
    assert kind == kinds.RESULT
    assert body["error"]["type"] == "LimitError"
    assert "--max-callback-depth" in body["error"]["message"]


def test_trace_levels_are_checked():
    s = new_session()
    (_, _, ), = [m[:2] for m in sync(s, [[1, "trace.push", None, [2], None]])]
    assert s.error is None  # reported and cleared by the sync reply
    (_, body, _), = sync(s, [[1, "trace.push", None, [2], None]])
    assert body["error"]["type"] == "TraceError"
    (_, body, _), = sync(s, [[2, "trace.pop", None, [1], None]])
    assert body["error"]["type"] == "TraceError"


def test_ops_per_batch_limit():
    from adserver.session import OpFailure
    s = new_session(max_ops_per_batch=2)
    with pytest.raises(OpFailure, match="--max-ops-per-batch"):
        s.on_batch({"ops": [[i, "sin", i, [0.0], None] for i in range(3)]}, None)


def test_live_handle_limit():
    s = new_session(max_live_handles=3)
    (_, body, _), = sync(s, [[i, "array", i, [np.ones(1)], None] for i in range(1, 6)])
    assert body["error"]["type"] == "LimitError" and body["error"]["seq"] == 4
    # Past the limit, the failed ops' outputs are not stored, not even as poisons.
    assert len(s.handles) == 3 and not any(type(v).__name__ == "Poison" for v in
                                           s.handles.values())


def test_release_frees_handles():
    s = new_session()
    sync(s, [[1, "array", 1, [np.ones(3)], None], [2, "sin", 2, [Ref(1)], None]])
    assert set(s.handles) == {1, 2}
    sync(s, [[3, "release", None, [[1, 2]], None]])
    assert s.handles == {}


def test_callback_must_return_one_gradient_per_argument():
    s = new_session()
    (_, cb), = sync(s, traced_custom(s, [1.0]), fetch=[9])
    (_, body, _), = s.on_callback_return({"cb": cb["cb"], "grads": []})
    assert body["error"]["type"] == "CallbackError" and "needs 1" in body["error"]["message"]
    assert body["error"]["seq"] == 6 and body["error"]["op"] == "vjp"


def test_bad_handle_errors_name_the_op():
    s = new_session()
    (_, body, _), = sync(s, [[1, "sin", 2, [Ref(77)], None]])
    assert body["error"]["type"] == "HandleError"
    assert (body["error"]["seq"], body["error"]["op"]) == (1, "sin")


def test_fetching_a_poisoned_handle_reports_the_original_error_type():
    s = new_session()
    sync(s, [[1, "sin", 2, [Ref(77)], None]])
    (_, body, _), = sync(s, [], fetch=[2])
    assert body["error"]["type"] == "HandleError" and body["errors"] == 1


def test_integer_values_are_boxed_as_floats():
    s = new_session()
    sync(s, [[1, "trace.push", None, [1], None], [2, "box", 3, [3, 1], None]])
    assert s.handles[3]._value.dtype == np.float64


def test_forward_mode_through_the_session():
    s = new_session()
    (_, body, _), = sync(s, [
        [1, "trace.push", None, [1], None],
        [2, "box", 2, [np.array([0.5, 1.0]), 1], {"tangent": np.array([1.0, 2.0])}],
        [3, "sin", 3, [Ref(2)], None],
        [4, "multiply", 4, [Ref(3), Ref(3)], None],
        [5, "trace.pop", None, [1], None],
        [6, "tangent", 5, [Ref(4), 1], None],
        [7, "value", 6, [Ref(4), 1], None],
    ], fetch=[5, 6])
    assert body["error"] is None
    x, t = np.array([0.5, 1.0]), np.array([1.0, 2.0])
    np.testing.assert_allclose(body["values"][0], 2 * np.sin(x) * np.cos(x) * t)
    np.testing.assert_allclose(body["values"][1], np.sin(x) ** 2)


def test_tangent_of_a_reverse_level_is_an_error():
    s = new_session()
    (_, body, _), = sync(s, [
        [1, "trace.push", None, [1], None],
        [2, "box", 2, [np.ones(2), 1], None],
        [3, "tangent", 3, [Ref(2), 1], None],
    ])
    assert body["error"]["type"] == "TraceError" and "reverse mode" in body["error"]["message"]
