"""Calls we place over ARI: callbacks from a ticket and test calls to the hotlines.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE_CALLBACK = "kind = 'callback' AND state != 'done'"
ACTIVE_PROBE = "kind = 'probe' AND state != 'done'"


def upgrade() -> None:
    op.create_table(
        "outbound_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("tickets.id", ondelete="CASCADE", name="fk_outbound_calls_ticket_id_tickets"),
            nullable=True,
        ),
        sa.Column("facility_code", sa.String(32), nullable=True),
        sa.Column(
            "requested_by",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="SET NULL", name="fk_outbound_calls_requested_by_users"),
            nullable=True,
        ),
        sa.Column("number", sa.String(32), nullable=False, server_default=""),
        sa.Column("recording", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(), nullable=True),
        sa.Column("talk_started_at", sa.DateTime(), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("ring_ms", sa.Integer(), nullable=True),
        sa.Column("talk_s", sa.Integer(), nullable=True),
        sa.Column("survey", sa.String(16), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id", name="pk_outbound_calls"),
    )
    op.create_index("ix_outbound_calls_state", "outbound_calls", ["state"])
    op.create_index("ix_outbound_calls_ticket_id", "outbound_calls", ["ticket_id"])
    op.create_index("ix_outbound_calls_kind_created", "outbound_calls", ["kind", "created_at"])
    op.create_index(
        "uq_outbound_calls_active_callback",
        "outbound_calls",
        ["ticket_id"],
        unique=True,
        sqlite_where=sa.text(ACTIVE_CALLBACK),
        postgresql_where=sa.text(ACTIVE_CALLBACK),
    )
    op.create_index(
        "uq_outbound_calls_active_probe",
        "outbound_calls",
        ["facility_code"],
        unique=True,
        sqlite_where=sa.text(ACTIVE_PROBE),
        postgresql_where=sa.text(ACTIVE_PROBE),
    )


def downgrade() -> None:
    op.drop_table("outbound_calls")
