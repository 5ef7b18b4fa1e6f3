"""Who is calling: the client's address, as the nearest trusted proxy saw it.

On a Space every request reaches the app through Hugging Face's proxy, which appends the address
it saw to ``X-Forwarded-For``. Entries before that one are whatever the client sent: anyone can
write ``X-Forwarded-For: 1.2.3.4`` into a request. So, as uvicorn does with
``--forwarded-allow-ips`` (walking the header from the right past the proxies it trusts), the
client is the entry TRUSTED_PROXY_HOPS places from the right, and the entries before it are
ignored. (uvicorn itself trusts every proxy here, ``--forwarded-allow-ips *``, for the https
scheme; the address it then puts in ``request.client`` is the leftmost, forgeable entry.)

What this can and cannot tell apart is in the README (sessions): clients behind one NAT or
corporate proxy share an address; an attacker with many addresses (IPv6 blocks, a botnet) gets
many limits. IPv6 addresses are keyed by their /64, the block one subscriber usually gets.
"""

from __future__ import annotations

import ipaddress

from fastapi import Request

# The key of a request whose address cannot be read.
UNKNOWN = "unknown"


def client_address(request: Request, trusted_hops: int) -> str:
    """The client's address (an IPv6 one as its /64 network), for rate limits."""
    forwarded = [
        entry.strip()
        for header in request.headers.getlist("x-forwarded-for")
        for entry in header.split(",")
    ]
    forwarded = [entry for entry in forwarded if entry]
    if trusted_hops > 0 and forwarded:
        raw = forwarded[-min(trusted_hops, len(forwarded))]
    else:
        raw = request.client.host if request.client is not None else UNKNOWN
    return _key(raw)


def _key(raw: str) -> str:
    text = raw.strip().strip("[]")
    if text.count(":") == 1 and "." in text:  # 203.0.113.7:5123
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return raw[:64] or UNKNOWN
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
