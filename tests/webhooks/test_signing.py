"""Signature headers: legacy ``sha256=`` HMACs and Standard Webhooks, checked by
hand, with the ``standardwebhooks`` library, and by a Node.js receiver, in isolation and on the
wire."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from novita_gpu.core.config import ConfigError, load_settings
from novita_gpu.webhooks.dispatcher import WebhookDispatcher
from novita_gpu.webhooks.signing import (
    LEGACY_SIGNATURE_HEADERS,
    USER_AGENT,
    Signer,
    WebhookMessage,
)
from tests.conftest import Api
from tests.support.events import add_instance, record
from tests.support.node import express_verify, needs_node
from tests.support.receiver import Receiver
from tests.webhooks.conftest import SECRET, WHSEC

BODY = '{"id":"evt_1","event":"instance.ready","data":{"note":"café ☕ 𝄞","n":1.5}}'.encode()


def message(body: bytes = BODY, when: datetime | None = None) -> WebhookMessage:
    now = when or datetime.now(UTC).replace(microsecond=0)
    return WebhookMessage("whd_01TEST", "evt_1", "instance.ready", body, now)


def library_for(secret: str) -> Webhook:
    """How a receiver builds the library's verifier: ``whsec_`` as is, others as UTF-8 bytes."""
    return Webhook(secret if secret.startswith("whsec_") else secret.encode())


class TestLegacySignatures:
    def test_each_header_is_the_hex_hmac_of_the_body(self) -> None:
        headers = Signer(SECRET).headers(message())
        expected = "sha256=" + hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
        assert [headers[name] for name in LEGACY_SIGNATURE_HEADERS] == [expected] * 3

    def test_the_timestamp_header_is_unix_seconds(self) -> None:
        when = datetime(2026, 5, 4, 3, 2, 1, 900_000, tzinfo=UTC)
        headers = Signer(SECRET).headers(message(when=when))
        assert headers["X-Webhook-Timestamp"] == str(int(when.timestamp()))


class TestStandardWebhooks:
    @pytest.mark.parametrize("secret", [WHSEC, SECRET], ids=["whsec", "plain"])
    def test_the_library_verifies(self, secret: str) -> None:
        headers = Signer(secret).headers(message())
        assert library_for(secret).verify(BODY, headers)["id"] == "evt_1"

    @pytest.mark.parametrize(
        ("secret", "key"),
        [
            (WHSEC, base64.b64decode(WHSEC.removeprefix("whsec_"))),
            (SECRET, SECRET.encode()),
        ],
        ids=["whsec-is-base64-decoded", "plain-is-utf8"],
    )
    def test_signed_content_is_id_timestamp_body(self, secret: str, key: bytes) -> None:
        msg = message()
        headers = Signer(secret).headers(msg)
        signed = f"{msg.message_id}.{headers['webhook-timestamp']}.".encode() + BODY
        digest = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        assert headers["webhook-signature"] == f"v1,{digest}"

    def test_another_secret_does_not_verify(self) -> None:
        headers = Signer(SECRET).headers(message())
        with pytest.raises(WebhookVerificationError):
            library_for("another-secret").verify(BODY, headers)

    def test_a_changed_body_does_not_verify(self) -> None:
        headers = Signer(WHSEC).headers(message())
        with pytest.raises(WebhookVerificationError):
            library_for(WHSEC).verify(BODY.replace(b"1.5", b"2.5"), headers)

    def test_an_empty_whsec_key_is_refused(self) -> None:
        with pytest.raises(ValueError, match="WEBHOOK_SECRET"):
            Signer("whsec_")


class TestIdentityHeaders:
    def test_event_delivery_and_client_headers(self) -> None:
        msg = message()
        headers = Signer(SECRET).headers(msg)
        assert headers["Content-Type"] == "application/json"
        assert headers["User-Agent"] == USER_AGENT
        assert USER_AGENT.startswith("novita-gpu/")
        assert headers["X-Webhook-Event"] == "instance.ready"
        assert headers["X-Event-Id"] == "evt_1"
        assert headers["webhook-id"] == "whd_01TEST"
        assert headers["webhook-timestamp"] == headers["X-Webhook-Timestamp"]

    def test_without_a_secret_nothing_is_signed(self) -> None:
        headers = Signer(None).headers(message())
        signature_names = {*LEGACY_SIGNATURE_HEADERS, "webhook-signature"}
        assert not signature_names & set(headers)
        assert headers["webhook-id"] == "whd_01TEST"


@needs_node
class TestNodeReceiver:
    async def test_express_style_verification_passes(self) -> None:
        headers = Signer(SECRET).headers(message())
        result = await express_verify(BODY, SECRET, headers["X-Signature-SHA256"])
        assert result == {"roundTrip": True, "signatureValid": True}

    async def test_express_style_verification_notices_a_wrong_secret(self) -> None:
        headers = Signer("another").headers(message())
        result = await express_verify(BODY, SECRET, headers["X-Signature-SHA256"])
        assert result == {"roundTrip": True, "signatureValid": False}


WIRE_SECRETS = [
    pytest.param({"webhook_secret": WHSEC}, id="whsec"),
    pytest.param({"webhook_secret": SECRET}, id="plain"),
]


class TestOnTheWire:
    """What a receiver gets from the dispatcher: the stored payload, verifiable every way."""

    async def deliver(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> tuple[bytes, dict[str, str], str]:
        instance_id = await add_instance(api.ctx, "sig-test", webhook_url=receiver.url)
        data: dict[str, Any] = {"note": "café ☕ 𝄞 \u2028", "ratio": 1.0, "big": 1e21}
        event = await record(api.ctx, instance_id, data=data)
        assert await dispatcher.run_once() == 1
        request = receiver.requests[0]
        return request.body, request.headers, event.payload

    @pytest.mark.parametrize("settings_overrides", WIRE_SECRETS)
    async def test_body_is_the_stored_payload_and_every_signature_verifies(
        self,
        api: Api,
        receiver: Receiver,
        dispatcher: WebhookDispatcher,
        settings_overrides: dict[str, str],
    ) -> None:
        secret = settings_overrides["webhook_secret"]
        body, headers, payload = await self.deliver(api, receiver, dispatcher)
        assert body == payload.encode("utf-8")
        legacy = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        assert headers["x-signature-sha256"] == headers["x-signature"] == legacy
        assert headers["x-webhook-signature"] == legacy
        assert library_for(secret).verify(body, headers)["id"] == headers["x-event-id"]

    @needs_node
    @pytest.mark.parametrize("settings_overrides", WIRE_SECRETS)
    async def test_a_node_receiver_round_trips_and_verifies(
        self,
        api: Api,
        receiver: Receiver,
        dispatcher: WebhookDispatcher,
        settings_overrides: dict[str, str],
    ) -> None:
        secret = settings_overrides["webhook_secret"]
        body, headers, _ = await self.deliver(api, receiver, dispatcher)
        result = await express_verify(body, secret, headers["x-signature-sha256"])
        assert result == {"roundTrip": True, "signatureValid": True}

    @pytest.mark.parametrize("settings_overrides", [{"webhook_secret": None}])
    async def test_without_a_secret_the_request_is_unsigned(
        self, api: Api, receiver: Receiver, dispatcher: WebhookDispatcher
    ) -> None:
        _, headers, _ = await self.deliver(api, receiver, dispatcher)
        assert "webhook-signature" not in headers
        assert "x-signature-sha256" not in headers
        assert headers["webhook-id"].startswith("whd_")


class TestSecretSetting:
    @pytest.mark.parametrize("secret", ["whsec_", "whsec_!!!"])
    def test_a_whsec_secret_that_is_not_base64_stops_the_start_up(self, secret: str) -> None:
        with pytest.raises(ConfigError, match=r"^invalid WEBHOOK_SECRET: ") as raised:
            load_settings(_env_file=None, webhook_secret=secret)
        assert "(got" not in str(raised.value)  # the value is not echoed

    @pytest.mark.parametrize("secret", [WHSEC, SECRET])
    def test_usable_secrets_are_accepted(self, secret: str) -> None:
        settings = load_settings(_env_file=None, webhook_secret=secret)
        assert settings.webhook_secret is not None
        Signer(settings.webhook_secret.get_secret_value())
