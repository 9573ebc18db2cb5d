"""Table definitions: every fact the service needs after a restart lives in one of these.

- ``instances``: managed instances, including tombstones of deleted ones (``deleted_at``).
- ``instance_events``: the append-only history of every status change; ``seq`` orders the
  global stream (SSE), ``id`` is the public ``evt_...`` id, ``payload`` the exact JSON text
  sent to webhooks and streams (with the instance as it was at that moment).
- ``webhook_deliveries`` / ``webhook_attempts``: the transactional outbox and its attempt log.
- ``idempotency_keys``: stored first responses for ``Idempotency-Key`` replays.
- ``leases``: named leases for periodic jobs (once per interval across replicas) and loop
  heartbeats.
- ``api_tokens``: hashed API tokens (in addition to ``API_TOKENS`` from the environment).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from novita_gpu.db.types import UTCDateTime

# SQLite only auto-increments an INTEGER PRIMARY KEY, not a BIGINT one.
AutoId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class Instance(Base):
    """A managed instance. ``version`` guards against lost updates between replicas."""

    __tablename__ = "instances"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(24), index=True)
    upstream_status: Mapped[str | None] = mapped_column(String(32))
    novita_instance_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(16), default="managed")

    # What was asked for and what was chosen
    product_id: Mapped[str | None] = mapped_column(String(255))
    product_name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(32))
    cluster_id: Mapped[str | None] = mapped_column(String(64))
    gpu_num: Mapped[int] = mapped_column(Integer, default=1)
    rootfs_size: Mapped[int] = mapped_column(Integer, default=60)
    billing_mode: Mapped[str] = mapped_column(String(16), default="spot")
    template_id: Mapped[str | None] = mapped_column(String(64))
    image_url: Mapped[str | None] = mapped_column(String(500))
    image_auth_id: Mapped[str | None] = mapped_column(String(255))
    ports: Mapped[list[Any]] = mapped_column(default=list)
    envs: Mapped[list[Any]] = mapped_column(default=list)
    command: Mapped[str | None] = mapped_column(Text)
    regions_allowed: Mapped[list[Any]] = mapped_column(default=list)
    max_price_per_hour: Mapped[float | None] = mapped_column(Float)
    price_units: Mapped[int | None] = mapped_column(BigInteger)
    spot_price_units: Mapped[int | None] = mapped_column(BigInteger)
    on_demand_price_units: Mapped[int | None] = mapped_column(BigInteger)

    # Behaviour settings
    webhook_url: Mapped[str | None] = mapped_column(Text)
    auto_stop_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Minutes, fractions allowed (demos and end-to-end tests run in seconds).
    auto_stop_idle_minutes: Mapped[float | None] = mapped_column(Float)
    auto_delete_after_stopped_minutes: Mapped[float | None] = mapped_column(Float)
    max_runtime_minutes: Mapped[float | None] = mapped_column(Float)
    spot_recovery: Mapped[str] = mapped_column(String(16), default="none")
    health_check_config: Mapped[dict[str, Any]] = mapped_column(default=dict)

    # Observed state
    port_mappings: Mapped[list[Any]] = mapped_column(default=list)
    connection: Mapped[dict[str, Any]] = mapped_column(default=dict)
    health_check: Mapped[dict[str, Any]] = mapped_column(default=dict)
    spot_status: Mapped[str | None] = mapped_column(String(16))
    spot_reclaim_time: Mapped[datetime | None] = mapped_column()
    spot_notice_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    migration_job_id: Mapped[str | None] = mapped_column(String(64))
    recovery_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Spot recovery (novita_gpu.spot): the durable step a recovery is at, the reclaimed
    # upstream instance still to delete after a recreate, and what the last recovery did.
    recovery_phase: Mapped[str | None] = mapped_column(String(16), index=True)
    recovery_started_at: Mapped[datetime | None] = mapped_column()
    reclaimed_novita_id: Mapped[str | None] = mapped_column(String(64))
    spot_recoveries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_recovery: Mapped[dict[str, Any] | None] = mapped_column()

    # Create bookkeeping: the row exists before upstream is called (invariant 4)
    create_attempts: Mapped[int] = mapped_column(Integer, default=0)
    create_sent_at: Mapped[datetime | None] = mapped_column()
    # An action upstream refused for now (stop while booting, delete before the id is known);
    # the reconciler completes it when the upstream state allows.
    desired_status: Mapped[str | None] = mapped_column(String(24))

    # Timeline and accounting
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()
    status_changed_at: Mapped[datetime] = mapped_column()
    started_at: Mapped[datetime | None] = mapped_column()
    ready_at: Mapped[datetime | None] = mapped_column()
    stopped_at: Mapped[datetime | None] = mapped_column()
    deleted_at: Mapped[datetime | None] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column()
    running_since: Mapped[datetime | None] = mapped_column()
    runtime_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    # Money saved by auto-stop: set when auto-stop stops the instance, folded into
    # ``saved_seconds`` at the next start (or the delete).
    auto_stopped_at: Mapped[datetime | None] = mapped_column()
    saved_seconds: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")

    # Reconciler scheduling and leases
    next_sync_at: Mapped[datetime | None] = mapped_column(index=True)
    next_probe_at: Mapped[datetime | None] = mapped_column(index=True)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column()

    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    __table_args__ = (
        # Names are unique among instances that are not deleted; tombstones free the name.
        Index(
            "uq_instances_live_name",
            "name",
            unique=True,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("ix_instances_created_at_id", "created_at", "id"),
    )


class InstanceEvent(Base):
    """One status change (or notice) of one instance. Append-only."""

    __tablename__ = "instance_events"

    seq: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(48))
    status: Mapped[str] = mapped_column(String(24))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)

    __table_args__ = (Index("ix_instance_events_instance_seq", "instance_id", "seq"),)


class WebhookDelivery(Base):
    """One event to one receiver; the body is the event's ``payload``, identical on retries."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("instance_events.id", ondelete="CASCADE"))
    event_seq: Mapped[int] = mapped_column(BigInteger)
    instance_id: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()
    last_attempt_at: Mapped[datetime | None] = mapped_column()
    delivered_at: Mapped[datetime | None] = mapped_column()
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_order", "instance_id", "target", "event_seq"),
    )


class WebhookAttempt(Base):
    """One HTTP attempt of one delivery, kept for inspection."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempt_number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column()
    duration_ms: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    response_excerpt: Mapped[str | None] = mapped_column(Text)


class IdempotencyKey(Base):
    """The first response to a request carrying ``Idempotency-Key``, replayed on repeats."""

    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(String(128), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="in_progress")
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    instance_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Lease(Base):
    """A named lease: who runs a periodic job now, when it last ran, and its heartbeat."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime | None] = mapped_column()
    last_run_at: Mapped[datetime | None] = mapped_column()
    last_duration_ms: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    run_count: Mapped[int] = mapped_column(BigInteger, default=0)
    interval_seconds: Mapped[float | None] = mapped_column(Float)
    heartbeat_at: Mapped[datetime | None] = mapped_column()
    # What the last run found and did, for jobs that report it (the auto-stop check).
    last_result: Mapped[dict[str, Any] | None] = mapped_column()


class ApiToken(Base):
    """A hashed API token (SHA-256 of the token); the token itself is never stored."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(16), default="admin", server_default="admin")
    created_at: Mapped[datetime] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
