"""The real client address, trusting X-Forwarded-For only from configured proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence

from litestar import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Sequence[str]) -> list[Network]:
    return [ipaddress.ip_network(entry, strict=False) for entry in entries]


def _is_trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def rate_limit_key(address: str) -> str:
    """IPv6 clients usually hold a whole /64: limiting each address alone would let one client
    rotate through billions of them."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def client_address_resolver(trusted_proxies: Sequence[str]) -> Callable[[Request], str]:
    """Walk X-Forwarded-For from the right, skipping our own proxies; the first other hop is the client.

    With no trusted proxy configured, the header is ignored entirely: anyone can write it.
    """
    trusted = parse_networks(trusted_proxies)

    def resolve(request: Request) -> str:
        peer = request.client.host if request.client else "unknown"
        if not trusted or not _is_trusted(peer, trusted):
            return peer
        hops = [hop.strip() for hop in request.headers.get("x-forwarded-for", "").split(",") if hop.strip()]
        for hop in reversed(hops):
            if not _is_trusted(hop, trusted):
                return hop
        return hops[0] if hops else peer

    return resolve
