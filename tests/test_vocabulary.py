"""adproto.vocabulary is generated from the registry; clients build on it."""
from pathlib import Path

from adserver.ops import OPS, coverage
import adproto.vocabulary as vocabulary

SOURCE = Path(vocabulary.__file__)


def test_vocabulary_is_current():
    assert SOURCE.read_text() == coverage.render_vocabulary(), (
        "protocol/adproto/vocabulary.py is out of date: run "
        "`python -m adserver.ops.coverage --vocabulary > protocol/adproto/vocabulary.py`")


def test_client_wraps_numpy_names_from_the_vocabulary():
    import numpy
    import adclient.numpy as np
    for name in vocabulary.OPS:
        if "." not in name and callable(getattr(numpy, name, None)):
            assert np.__dict__.get(name) is not None, name
    assert set(vocabulary.OPS) == set(OPS)
