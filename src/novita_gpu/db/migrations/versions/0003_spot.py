"""spot recovery: phase, reclaimed upstream id, recovery count and last outcome

Revision ID: spot
Revises: cost_control
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import novita_gpu.db.types

revision: str = "spot"
down_revision: str | None = "cost_control"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("instances") as batch:
        batch.add_column(sa.Column("recovery_phase", sa.String(length=16), nullable=True))
        batch.add_column(
            sa.Column(
                "recovery_started_at",
                novita_gpu.db.types.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
        batch.add_column(sa.Column("reclaimed_novita_id", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("spot_recoveries", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("last_recovery", sa.JSON(), nullable=True))
        batch.create_index("ix_instances_recovery_phase", ["recovery_phase"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("instances") as batch:
        batch.drop_index("ix_instances_recovery_phase")
        batch.drop_column("last_recovery")
        batch.drop_column("spot_recoveries")
        batch.drop_column("reclaimed_novita_id")
        batch.drop_column("recovery_started_at")
        batch.drop_column("recovery_phase")
