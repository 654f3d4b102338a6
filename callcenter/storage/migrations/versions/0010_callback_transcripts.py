"""Callbacks are transcribed too: a job and a transcript belong to a call or to a callback (outbound).

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ONE_SOURCE = "(call_id IS NULL) <> (outbound_id IS NULL)"
TABLES = ("transcription_jobs", "transcripts")


def upgrade() -> None:
    # SQLite cannot alter a column or add a constraint: batch mode copies the table.
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("outbound_id", sa.Integer(), nullable=True))
            batch.alter_column("call_id", existing_type=sa.String(length=36), nullable=True)
            batch.create_foreign_key(
                op.f(f"fk_{table}_outbound_id_outbound_calls"),
                "outbound_calls",
                ["outbound_id"],
                ["id"],
                ondelete="CASCADE",
            )
            batch.create_unique_constraint(op.f(f"uq_{table}_outbound_id"), ["outbound_id"])
            batch.create_check_constraint(op.f(f"ck_{table}_one_source"), ONE_SOURCE)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.execute(sa.text(f"DELETE FROM {table} WHERE call_id IS NULL"))  # callbacks' rows cannot stay
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"ck_{table}_one_source"), type_="check")
            batch.drop_constraint(op.f(f"uq_{table}_outbound_id"), type_="unique")
            batch.drop_constraint(op.f(f"fk_{table}_outbound_id_outbound_calls"), type_="foreignkey")
            batch.drop_column("outbound_id")
            batch.alter_column("call_id", existing_type=sa.String(length=36), nullable=False)
