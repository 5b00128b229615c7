"""Where webhook deliveries may connect: public internet addresses only (a guard against SSRF).

A partner's admin agent chooses the URL, and the desk's server makes the request: left unchecked,
a URL such as http://169.254.169.254/ or http://127.0.0.1:5432/ would make the desk reach into its
own network for a partner. So:

- an endpoint URL whose host is a private, loopback, link-local or otherwise non-public IP address,
  or `localhost`, is refused when it is saved;
- a delivery resolves the host name itself and connects only to a public address it resolved, in
  the same step, so a name that resolves (or is re-pointed) to a private address gets nowhere.

The operator may allow private targets (`PARTNERDESK_WEBHOOK_PRIVATE_TARGETS=1`), for development
and for receivers inside its own network. When the environment configures an HTTP proxy, deliveries
go through it, and the proxy is where the destinations are controlled.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
PRIVATE_TARGETS_SETTING = "PARTNERDESK_WEBHOOK_PRIVATE_TARGETS"


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return address.is_global and not address.is_multicast


def literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def private_host_problem(host: str) -> str | None:
    """Why a URL's host is not a public destination, judged without asking DNS; None when it may be."""
    name = host.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return "points to this machine (localhost)"
    address = literal_address(name)
    if address is not None and not is_public(address):
        return f"points to a private or local network address ({address})"
    return None


class _PublicOnlyBackend(httpcore.SyncBackend):
    """Resolves the host and connects to one of its public addresses, never to another."""

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable | None = None) -> httpcore.NetworkStream:
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as error:
            raise httpcore.ConnectError(f"cannot resolve {host}: {error}") from error
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in found))
        public = [address for address in addresses if is_public(address)]
        if not public:
            shown = ", ".join(str(address) for address in addresses[:3])
            raise httpcore.ConnectError(
                f"{host} resolves only to private or local addresses ({shown}); webhooks go to public hosts")
        last_error: Exception | None = None
        for address in public:
            try:
                return super().connect_tcp(str(address), port, timeout=timeout, local_address=local_address,
                                           socket_options=socket_options)
            except httpcore.ConnectError as error:  # try the host's next address, as a resolver-connect would
                last_error = error
        assert last_error is not None
        raise last_error


class PublicOnlyTransport(httpx.HTTPTransport):
    """httpx's transport with the public-only connector (TLS still checks the URL's host name)."""

    def __init__(self) -> None:
        super().__init__()
        # httpx does not take a network backend; its connection pool (httpx is pinned) does.
        self._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(),
                                             network_backend=_PublicOnlyBackend())
