"""Retention: a hold on a ticket ("giữ lại"), and when each kind of personal data was removed.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("hold", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("personal_data_removed_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("recordings") as batch:
        batch.add_column(sa.Column("deleted_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("transcripts") as batch:
        batch.add_column(sa.Column("removed_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("transcripts") as batch:
        batch.drop_column("removed_at")
    with op.batch_alter_table("recordings") as batch:
        batch.drop_column("deleted_at")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("personal_data_removed_at")
        batch.drop_column("hold")
