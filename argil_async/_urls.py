"""URL rules shared by the client and the request models: https, or http on loopback only."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

__all__ = ["is_https_or_loopback", "is_loopback_host"]


def is_loopback_host(host: str | None) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_https_or_loopback(url: str, *, allow_loopback_http: bool = True) -> bool:
    """True for https URLs with a host, and for http URLs to a loopback host when allowed."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if not parts.hostname:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and allow_loopback_http and is_loopback_host(parts.hostname)
