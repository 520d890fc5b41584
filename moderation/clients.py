"""Who is asking: a client's network and handle as stored and counted, hashed.

No raw IP address or handle is kept in rate-limit counters, bans or reports: each
passes through `keyed_digest`, an HMAC keyed with SECRET_KEY, which every process
shares. The limiter (extensions.py), the rate limits, bans and reports all read the
client's network from here.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import unicodedata

from flask import current_app, request


def keyed_digest(kind: str, value: str) -> str:
    """A keyed hash: the same in every process, meaningless without SECRET_KEY."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    mac = hmac.new(secret, f"{kind}\0{value}".encode(), hashlib.sha256)
    return f"{kind}:{mac.hexdigest()[:32]}"


def client_network(address: str | None, ipv4_prefix: int, ipv6_prefix: int) -> str:
    """The network `address` belongs to, in CIDR form ('unknown' when unparseable).

    An IPv6 subscriber is handed at least a /64 and can pick any address in it, so
    counting single IPv6 addresses would count nothing. An IPv4 address is counted
    alone: carrier-grade NAT already puts many readers behind one address, and a
    /24 would add whole neighbourhoods to it.
    """
    try:
        ip = ipaddress.ip_address((address or "").split("%", 1)[0])
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:192.0.2.1 from a dual-stack socket
    prefix = ipv4_prefix if ip.version == 4 else ipv6_prefix
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def network_key() -> str:
    """Rate-limit key of the client's network (after ProxyFix), hashed."""
    config = current_app.config
    network = client_network(
        request.remote_addr,
        int(config["RATELIMIT_IPV4_PREFIX"]),
        int(config["RATELIMIT_IPV6_PREFIX"]),
    )
    return keyed_digest("net", network)


def normal_handle(handle: str) -> str:
    """A handle as the limit counts it: NFKC, casefolded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", handle).casefold().split())
