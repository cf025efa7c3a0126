"""adserver: an automatic-differentiation daemon.

The engine (``adserver.engine``) and the primitive table (``adserver.ops``) know nothing of
sockets; ``adserver.session`` holds one client's handles and trace stack, and
``adserver.server`` carries sessions over ZeroMQ.
"""
__version__ = "0.1.0"
