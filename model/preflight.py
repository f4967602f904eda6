"""Checks a server command makes before it starts: can it listen where it was asked to?

``mutualsim app`` calls :func:`check_listen` before it starts the server, so a bad host, an
address that is not this machine's, a port in use or a port that needs privileges is one
line and exit status 2, not a raw server error; it prints "serving on ..." once
:func:`accepting` says the server answers.
"""

from __future__ import annotations

import errno
import socket

from .errors import InputError


def check_listen(host: str, port: int) -> None:
    """Bind (and at once close) a listening socket at ``host``:``port``.

    Raises
    ------
    InputError
        Naming ``--host`` or ``--port`` and what is allowed.
    """
    source = f"--host {host!r}"
    if not host or any(c.isspace() for c in host) or len(host) > 253:
        raise InputError("is not a host name or IP address; e.g. 127.0.0.1 (this machine "
                         "only) or 0.0.0.0 (every interface)", source=source)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError, OSError) as err:
        raise InputError(f"is not a valid address or known host name ({err}); e.g. "
                         "127.0.0.1 or 0.0.0.0", source=source) from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        # As the server does (uvicorn): a port left in TIME_WAIT is usable, a listener's not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
            sock.listen(1)
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise InputError(f"is already in use on {host}; give another --port "
                                 "(1024-65535) or stop the program using it",
                                 source=f"--port {port}") from None
            if err.errno in (errno.EACCES, errno.EPERM):
                raise InputError(f"needs privileges on {host}; give a port from 1024 to "
                                 "65535", source=f"--port {port}") from None
            if err.errno == errno.EADDRNOTAVAIL:
                raise InputError("is not an address of this machine; give one of its "
                                 "addresses, 127.0.0.1 or 0.0.0.0", source=source) from None
            raise InputError(f"cannot listen there: {err.strerror or err}",
                             source=source) from None


def accepting(host: str, port: int, timeout: float = 0.5) -> bool:
    """True once a server accepts connections at ``host``:``port`` (a wildcard address is
    tried on this machine's loopback)."""
    target = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    try:
        with socket.create_connection((target.strip("[]"), port), timeout=timeout):
            return True
    except OSError:
        return False


__all__ = ["accepting", "check_listen"]
