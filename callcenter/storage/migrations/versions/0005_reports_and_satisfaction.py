"""Satisfaction rating on calls; the previous system's reference on imported tickets.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("rating", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("rating_status", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("rated_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("external_ref", sa.String(length=64), nullable=True))
        batch.create_unique_constraint(batch.f("uq_tickets_external_ref"), ["external_ref"])


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_constraint(batch.f("uq_tickets_external_ref"), type_="unique")
        batch.drop_column("external_ref")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("rated_at")
        batch.drop_column("rating_status")
        batch.drop_column("rating")
