"""Where webhook deliveries may connect: public internet addresses only (a guard against SSRF).

A partner's admin agent chooses the URL, and the desk's server makes the request: left unchecked,
a URL such as http://169.254.169.254/ or http://127.0.0.1:5432/ would make the desk reach into its
own network for a partner. So:

- an address is public only when it is globally reachable (`is_global`, and none of the IANA
  special-purpose blocks that some Python versions still call global, such as 192.0.0.8), and is
  none of the IPv6 forms that carry an IPv4 address inside (IPv4-mapped, IPv4-compatible, SIIT,
  NAT64, 6to4, Teredo): those reach whatever IPv4 address they carry, 127.0.0.1 included;
- an endpoint URL whose host is such an address (in any spelling `inet_aton` reads, 2130706433 or
  0x7f.1 included), or `localhost`, is refused when it is saved;
- a delivery resolves the host name itself, refuses the host unless every address it resolves to
  is public, and connects only to those checked addresses, in the same step: a name that resolves
  (or is re-pointed) to a private address gets nowhere.

Errors say "not a public address" and nothing more: never the addresses a name resolved to, which
would tell a partner about the desk's internal DNS.

The operator may allow private targets (`PARTNERDESK_WEBHOOK_PRIVATE_TARGETS=1`), for development
and for receivers inside its own network. When the environment configures an HTTP proxy, deliveries
go through it, and the proxy is where the destinations are controlled.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable, Iterator

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
PRIVATE_TARGETS_SETTING = "PARTNERDESK_WEBHOOK_PRIVATE_TARGETS"
NOT_PUBLIC = "not a public address"

# IANA special-purpose blocks that are not globally reachable, listed because `is_global` of the
# Python versions we support misses some (3.11's calls 192.0.0.8 and the IPv4-embedding forms global).
NOT_GLOBAL_NETWORKS = tuple(ipaddress.ip_network(block) for block in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
    "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    "::/128", "::1/128", "100::/64", "2001::/23", "2001:db8::/32", "3fff::/20", "5f00::/16", "fc00::/7",
    "fe80::/10", "fec0::/10", "ff00::/8",
))
# IPv6 forms that embed an IPv4 address: refused whatever the IPv4 address inside is.
IPV4_EMBEDDING_NETWORKS = tuple(ipaddress.ip_network(block) for block in (
    "::ffff:0:0/96",    # IPv4-mapped, ::ffff:127.0.0.1
    "::/96",            # IPv4-compatible (deprecated), ::127.0.0.1
    "::ffff:0:0:0/96",  # SIIT IPv4-translated, ::ffff:0:7f00:1
    "64:ff9b::/96",     # NAT64 well-known prefix, 64:ff9b::7f00:1
    "64:ff9b:1::/48",   # NAT64 local-use prefix
    "2002::/16",        # 6to4, 2002:7f00:1::
    "2001::/32",        # Teredo
))
# Spellings of an IPv4 address that `inet_aton` (and so a resolver) reads: 2130706433, 0x7f.1, 0177.0.0.1.
_LEGACY_IPV4 = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$")


class NotPublicAddress(httpx.ConnectError):
    """A delivery's host is, or resolves to, an address that is not public: nothing was sent."""

    def __init__(self) -> None:
        super().__init__(NOT_PUBLIC)


class _RefusedByGuard(httpcore.ConnectError):
    """Raised inside the connection pool; the transport turns it into `NotPublicAddress`."""


def is_public(address: IPAddress) -> bool:
    if address.version == 6 and any(address in network for network in IPV4_EMBEDDING_NETWORKS):
        return False
    if any(address in network for network in NOT_GLOBAL_NETWORKS if network.version == address.version):
        return False
    return address.is_global and not address.is_multicast


def literal_address(host: str) -> IPAddress | None:
    """The address a URL's host spells without asking DNS, in any form a resolver reads as one."""
    text = host.strip("[]").rstrip(".").lower()
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if _LEGACY_IPV4.match(text):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def private_host_problem(host: str) -> str | None:
    """Why a URL's host is not a public destination, judged without asking DNS; None when it may be."""
    name = host.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return f"is {NOT_PUBLIC}"
    address = literal_address(name)
    if address is not None and not is_public(address):
        return f"is {NOT_PUBLIC}"
    return None


def checked_addresses(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to, when all of them are public; `_RefusedByGuard` otherwise."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise httpcore.ConnectError(f"the host name could not be resolved ({type(error).__name__})") from None
    addresses = list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found))
    if not addresses or not all(is_public(address) for address in addresses):
        raise _RefusedByGuard(NOT_PUBLIC)
    return addresses


class PublicOnlyBackend(httpcore.NetworkBackend):
    """httpcore's network backend that connects only to checked public addresses of a host.

    `connector` makes the actual connection (httpcore's own `SyncBackend` unless told otherwise): it
    is handed an address the guard checked, never a host name it would resolve again.
    """

    def __init__(self, connector: httpcore.NetworkBackend | None = None) -> None:
        self.connector = connector or httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable | None = None) -> httpcore.NetworkStream:
        last_error: Exception | None = None
        for address in checked_addresses(host, port):
            try:
                return self.connector.connect_tcp(str(address), port, timeout=timeout, local_address=local_address,
                                                  socket_options=socket_options)
            except httpcore.ConnectError as error:  # try the host's next address, as a resolver-connect would
                last_error = error
        assert last_error is not None
        raise last_error

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable | None = None) -> httpcore.NetworkStream:
        raise _RefusedByGuard(NOT_PUBLIC)

    def sleep(self, seconds: float) -> None:
        self.connector.sleep(seconds)


def _as_httpx_error(error: Exception) -> Exception:
    """httpx's exception of the same name as httpcore's (httpx's own transport maps them the same way)."""
    if isinstance(error, _RefusedByGuard):
        return NotPublicAddress()
    for kind in type(error).__mro__:
        mapped = getattr(httpx, kind.__name__, None)
        if isinstance(mapped, type) and issubclass(mapped, httpx.TransportError):
            return mapped(str(error))
    return error


class _ResponseBody(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes]) -> None:
        self.stream = stream

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self.stream
        except httpcore.TimeoutException as error:
            raise _as_httpx_error(error) from error
        except (httpcore.NetworkError, httpcore.ProtocolError) as error:
            raise _as_httpx_error(error) from error

    def close(self) -> None:
        close = getattr(self.stream, "close", None)
        if close is not None:
            close()


class PublicOnlyTransport(httpx.BaseTransport):
    """An httpx transport over httpcore's connection pool with the public-only backend.

    Only documented APIs: httpx's `BaseTransport` (custom transports) and httpcore's `ConnectionPool`
    with a `network_backend`. TLS still checks the URL's host name, as the pool is handed the URL.
    """

    def __init__(self, *, connector: httpcore.NetworkBackend | None = None) -> None:
        self.connections = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(),
                                                   network_backend=PublicOnlyBackend(connector))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = httpcore.URL(scheme=request.url.raw_scheme, host=request.url.raw_host, port=request.url.port,
                           target=request.url.raw_path)
        outgoing = httpcore.Request(method=request.method, url=url, headers=request.headers.raw,
                                    content=request.stream, extensions=request.extensions)
        try:
            answer = self.connections.handle_request(outgoing)
        except (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError,
                httpcore.UnsupportedProtocol, httpcore.ProxyError, httpcore.PoolTimeout) as error:
            raise _as_httpx_error(error) from error
        return httpx.Response(status_code=answer.status, headers=answer.headers,
                              stream=_ResponseBody(answer.stream), extensions=answer.extensions)

    def close(self) -> None:
        self.connections.close()
