"""A raw HTTP/1.1 client: sends exactly the bytes a hostile sender would (duplicate headers,
NUL bytes, non-ASCII, lying Content-Length, chunked bodies) and reads one response."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import Any

DEFAULT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def json(self) -> Any:
        return json.loads(self.body)


def build_request(
    method: str,
    path: str,
    headers: list[tuple[bytes | str, bytes | str]],
    body: bytes,
    *,
    host: str,
    content_length: int | bool | None = True,
    chunked: bool = False,
) -> bytes:
    """The request bytes. ``content_length``: True = the real length, an int = that value (a
    lie), None/False = no Content-Length; ``chunked`` sends the body in 1 KiB chunks."""
    lines = [f"{method} {path} HTTP/1.1".encode(), f"Host: {host}".encode()]
    lines.append(b"Connection: close")
    for name, value in headers:
        n = name.encode() if isinstance(name, str) else name
        v = value.encode() if isinstance(value, str) else value
        lines.append(n + b": " + v)
    if chunked:
        lines.append(b"Transfer-Encoding: chunked")
        encoded = b"".join(
            f"{len(body[i : i + 1024]):x}\r\n".encode() + body[i : i + 1024] + b"\r\n"
            for i in range(0, len(body), 1024)
        )
        payload = encoded + b"0\r\n\r\n"
    else:
        if content_length is True:
            lines.append(f"Content-Length: {len(body)}".encode())
        elif isinstance(content_length, int) and content_length is not False:
            lines.append(f"Content-Length: {content_length}".encode())
        payload = body
    return b"\r\n".join(lines) + b"\r\n\r\n" + payload


def parse_response(raw: bytes, *, method: str) -> RawResponse:
    head, _, rest = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    headers = []
    for line in header_lines:
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    body = rest
    if method == "HEAD":
        body = b""
    elif any(k.lower() == "transfer-encoding" and "chunked" in v for k, v in headers):
        body = _dechunk(rest)
    else:
        length = next((int(v) for k, v in headers if k.lower() == "content-length"), None)
        if length is not None:
            body = rest[:length]
    return RawResponse(status, headers, body)


def _complete(raw: bytes, *, method: str) -> bool:
    """True once a whole response is in ``raw`` (the server may keep the socket open)."""
    head, sep, rest = raw.partition(b"\r\n\r\n")
    if not sep:
        return False
    if method == "HEAD":
        return True
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            return len(rest) >= int(value.strip())
        if name.strip().lower() == "transfer-encoding" and "chunked" in value:
            return rest.endswith(b"0\r\n\r\n")
    return False


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2 :]
    return out


async def send_raw(
    host: str,
    port: int,
    request: bytes,
    *,
    method: str,
    half_close: bool = False,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> RawResponse:
    """Send ``request``, optionally half-close, read until the server closes; parse."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        # the server may answer (413) and close before it read everything
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        if half_close and writer.can_write_eof():
            with contextlib.suppress(OSError):
                writer.write_eof()
        raw = b""
        async with asyncio.timeout(timeout_s):
            while not _complete(raw, method=method):
                try:
                    chunk = await reader.read(65536)
                except ConnectionError:
                    break
                if not chunk:
                    break
                raw += chunk
        if not raw:
            raise ConnectionError("the server closed the connection without an answer")
        return parse_response(raw, method=method)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()
