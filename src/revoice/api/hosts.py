"""Which names the server answers to (the HTTP `Host` header): a defence against DNS rebinding.

A page on another site can point a name it owns at 127.0.0.1 (or a LAN address) and then
drive a server there from the visitor's browser, as its own origin. The browser then sends the
attacker's name as `Host`, so refusing names the server does not know stops it. Always allowed:
an IP address (v4 or v6, any port), `localhost` and `*.localhost`, this machine's own host
names (with `.local`, for mDNS), and the address `revoice serve` was told to listen on; more in
`REVOICE_ALLOWED_HOSTS` (a name, `.suffix` for a domain and its subdomains, or `*`).
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from collections.abc import Iterable


def hostname(host: str) -> str:
    """The name in a Host header, without its port and IPv6 brackets, lower case."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@functools.cache
def _own_names() -> frozenset[str]:
    names = {"localhost"}
    for name in (socket.gethostname(), socket.getfqdn()):
        name = name.lower().rstrip(".")
        if name:
            names |= {name, f"{name}.local", name.split(".", 1)[0]}
    return frozenset(names)


class AllowedHosts:
    def __init__(self, extra: Iterable[str], bind: str) -> None:
        entries = [hostname(e) if e.strip() != "*" else "*" for e in extra]
        self.any = "*" in entries
        self.suffixes = tuple(e for e in entries if e.startswith("."))
        self.names = frozenset(e for e in entries if e and not e.startswith(".")) | {hostname(bind)}

    def allows(self, host: str) -> bool:
        if self.any:
            return True
        name = hostname(host)
        if not name:  # HTTP/1.0 without a Host: not a browser, nothing to rebind
            return True
        if _is_ip(name) or name in self.names or name in _own_names():
            return True
        if name.endswith(".localhost"):
            return True
        return any(name.endswith(s) or name == s[1:] for s in self.suffixes)
