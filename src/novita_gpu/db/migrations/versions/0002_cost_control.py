"""cost control: fractional minutes, auto-stop savings, last job result

Revision ID: cost_control
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import novita_gpu.db.types

revision: str = "cost_control"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MINUTES = ("auto_stop_idle_minutes", "auto_delete_after_stopped_minutes", "max_runtime_minutes")


def upgrade() -> None:
    with op.batch_alter_table("instances") as batch:
        for column in _MINUTES:
            batch.alter_column(
                column, existing_type=sa.Integer(), type_=sa.Float(), existing_nullable=True
            )
        batch.add_column(
            sa.Column(
                "auto_stopped_at", novita_gpu.db.types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch.add_column(sa.Column("saved_seconds", sa.Float(), nullable=False, server_default="0"))
    with op.batch_alter_table("leases") as batch:
        batch.add_column(sa.Column("last_result", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("leases") as batch:
        batch.drop_column("last_result")
    with op.batch_alter_table("instances") as batch:
        batch.drop_column("saved_seconds")
        batch.drop_column("auto_stopped_at")
        for column in _MINUTES:
            batch.alter_column(
                column, existing_type=sa.Float(), type_=sa.Integer(), existing_nullable=True
            )
