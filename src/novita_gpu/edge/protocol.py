"""uvicorn HTTP protocols that answer unparseable requests with the error envelope.

A request the HTTP parser rejects (a request line or headers past the parser's limits, e.g. a
query string of ~65 KB, or bytes that are not HTTP) never reaches the application; uvicorn
answers it with a plain-text 400. These subclasses send the JSON envelope instead, with a
request id of its own and ``X-Request-ID``, then close the connection as uvicorn does.
"""

from __future__ import annotations

import orjson
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from novita_gpu.core.errors import ValidationFailed
from novita_gpu.core.http_errors import error_body
from novita_gpu.core.request_context import request_id_var
from novita_gpu.edge.middleware import new_request_id

_MESSAGE = "Malformed HTTP request (request line and headers must stay within the server's limits)"


def malformed_request_response() -> bytes:
    """The complete HTTP/1.1 response (head and body) for a request that could not be parsed."""
    request_id = new_request_id()
    token = request_id_var.set(request_id)
    try:
        body = orjson.dumps(error_body(ValidationFailed(_MESSAGE)))
    finally:
        request_id_var.reset(token)
    head = (
        "HTTP/1.1 400 Bad Request\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        f"x-request-id: {request_id}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


class EnvelopeHttpToolsProtocol(HttpToolsProtocol):
    def send_400_response(self, msg: str) -> None:
        self.transport.write(malformed_request_response())
        self.transport.close()


class EnvelopeH11Protocol(H11Protocol):
    def send_400_response(self, msg: str) -> None:
        self.transport.write(malformed_request_response())
        self.transport.close()
