"""Decoding a 2xx body: what the fast decoder refuses is still read as JSON readers do."""

from __future__ import annotations

import math

import httpx
import pytest

from novita_gpu.upstream import UpstreamDecodeError
from novita_gpu.upstream.classify import decode_success


def body(content: bytes, content_type: str = "application/json") -> httpx.Response:
    return httpx.Response(200, content=content, headers={"Content-Type": content_type})


class TestDecodeSuccess:
    def test_plain_json(self) -> None:
        assert decode_success("list", body(b'{"total": "2", "instances": []}')) == {
            "total": "2",
            "instances": [],
        }

    def test_nan_and_integers_beyond_64_bits(self) -> None:
        decoded = decode_success("list", body(b'{"a": NaN, "b": 123456789012345678901234567890}'))
        assert isinstance(decoded, dict)
        assert math.isnan(decoded["a"])
        assert decoded["b"] == 123456789012345678901234567890

    def test_utf16(self) -> None:
        assert decode_success("get", body('{"name": "café"}'.encode("utf-16"))) == {"name": "café"}

    def test_empty_body_reads_as_an_empty_object(self) -> None:
        assert decode_success("delete", body(b"  ")) == {}

    def test_not_json_is_a_decode_error(self) -> None:
        with pytest.raises(UpstreamDecodeError, match="not JSON"):
            decode_success("get", body(b"<html>oops</html>", "text/html"))
