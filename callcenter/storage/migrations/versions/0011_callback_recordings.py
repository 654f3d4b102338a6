"""A ticket may be called back more than once: a callback's recordings carry their callback.

Recordings were unique per (call, kind); a second callback that talked on the same ticket could not
attach its files (and its row could not be closed). Now a call's own recordings stay unique per kind,
and each callback's per (callback, kind).

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OWN = "outbound_id IS NULL"
CALLBACKS = "outbound_id IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.add_column(sa.Column("outbound_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_recordings_outbound_id_outbound_calls"),
            "outbound_calls",
            ["outbound_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.drop_constraint(op.f("uq_recordings_call_id"), type_="unique")
    op.create_index(
        "uq_recordings_call_kind",
        "recordings",
        ["call_id", "kind"],
        unique=True,
        sqlite_where=sa.text(OWN),
        postgresql_where=sa.text(OWN),
    )
    op.create_index(
        "uq_recordings_outbound_kind",
        "recordings",
        ["outbound_id", "kind"],
        unique=True,
        sqlite_where=sa.text(CALLBACKS),
        postgresql_where=sa.text(CALLBACKS),
    )


def downgrade() -> None:
    op.drop_index("uq_recordings_outbound_kind", table_name="recordings")
    op.drop_index("uq_recordings_call_kind", table_name="recordings")
    op.execute(sa.text("DELETE FROM recordings WHERE outbound_id IS NOT NULL"))
    with op.batch_alter_table("recordings") as batch:
        batch.create_unique_constraint(op.f("uq_recordings_call_id"), ["call_id", "kind"])
        batch.drop_constraint(op.f("fk_recordings_outbound_id_outbound_calls"), type_="foreignkey")
        batch.drop_column("outbound_id")
