"""autograd.numpy.numpy_boxes: ArrayBox, the type of a traced array, is a RemoteArray."""
from ..boxes import Box  # noqa: F401
from ..proxy import RemoteArray as ArrayBox  # noqa: F401
