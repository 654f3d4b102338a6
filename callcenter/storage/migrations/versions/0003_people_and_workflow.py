"""Users, web sessions, the audit log, ticket notes and the ticket workflow columns.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=24), nullable=False),
        sa.Column("province", sa.String(length=100), nullable=True),
        sa.Column("facility_code", sa.String(length=32), nullable=True),
        sa.Column("phone", sa.String(length=16), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_web_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_sessions_token_hash")),
    )
    op.create_index(op.f("ix_web_sessions_user_id"), "web_sessions", ["user_id"])
    op.create_index(op.f("ix_web_sessions_expires_at"), "web_sessions", ["expires_at"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("recording_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("remote", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_audit_log_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index(op.f("ix_audit_log_user_id"), "audit_log", ["user_id"])
    op.create_index("ix_audit_log_ticket_at", "audit_log", ["ticket_id", "at"])
    op.create_table(
        "ticket_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_notes_ticket_id_tickets"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_ticket_notes_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_notes")),
    )
    op.create_index(op.f("ix_ticket_notes_ticket_id"), "ticket_notes", ["ticket_id"])
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("assignee_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("deadline_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("resolved_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("forwarded_to", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("result_told", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("province", sa.String(length=100), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_tickets_assignee_id_users"), "users", ["assignee_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index(batch.f("ix_tickets_assignee_id"), ["assignee_id"])
        batch.create_index(batch.f("ix_tickets_deadline_at"), ["deadline_at"])
        batch.create_index(batch.f("ix_tickets_resolved_at"), ["resolved_at"])
        batch.create_index(batch.f("ix_tickets_province"), ["province"])


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index(batch.f("ix_tickets_province"))
        batch.drop_index(batch.f("ix_tickets_resolved_at"))
        batch.drop_index(batch.f("ix_tickets_deadline_at"))
        batch.drop_index(batch.f("ix_tickets_assignee_id"))
        batch.drop_constraint(batch.f("fk_tickets_assignee_id_users"), type_="foreignkey")
        for column in (
            "province",
            "result_told",
            "forwarded_to",
            "resolved_at",
            "deadline_at",
            "assignee_id",
        ):
            batch.drop_column(column)
    op.drop_table("ticket_notes")
    op.drop_table("audit_log")
    op.drop_table("web_sessions")
    op.drop_table("users")
