"""What a Node.js receiver sees: a body parsed the way Express parses it, re-serialised with
``JSON.stringify`` and verified against the ``sha256=`` header, as naive verifiers do."""

from __future__ import annotations

import asyncio
import json
import shutil

import pytest

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

_EXPRESS_VERIFY = r"""
const crypto = require('crypto');
const chunks = [];
process.stdin.on('data', (c) => chunks.push(c)).on('end', () => {
  const raw = Buffer.concat(chunks).toString('utf8');
  const body = JSON.parse(raw);           // what express.json() gives the handler
  const again = JSON.stringify(body);     // what the verifier signs
  const expected = 'sha256=' +
    crypto.createHmac('sha256', process.argv[1]).update(again).digest('hex');
  process.stdout.write(JSON.stringify({
    roundTrip: Buffer.from(again, 'utf8').equals(Buffer.concat(chunks)),
    signatureValid: expected.length === process.argv[2].length &&
      crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(process.argv[2])),
  }));
});
"""


async def express_verify(body: bytes, secret: str, signature: str) -> dict[str, bool]:
    """``{roundTrip, signatureValid}`` as a Node.js/Express receiver computes them."""
    process = await asyncio.create_subprocess_exec(
        "node",
        "-e",
        _EXPRESS_VERIFY,
        secret,
        signature,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate(body)
    assert process.returncode == 0, err.decode()
    result: dict[str, bool] = json.loads(out)
    return result
