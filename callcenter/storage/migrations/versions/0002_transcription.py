"""Transcription jobs, transcripts, ticket suggestion/incident fields, accent-insensitive search.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "transcription_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=36), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("recording", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", sa.DateTime(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_transcription_jobs_call_id_calls"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_transcription_jobs_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transcription_jobs")),
        sa.UniqueConstraint("call_id", name=op.f("uq_transcription_jobs_call_id")),
    )
    op.create_index("ix_transcription_jobs_due", "transcription_jobs", ["status", "run_after"])
    op.create_index(op.f("ix_transcription_jobs_ticket_id"), "transcription_jobs", ["ticket_id"])
    op.create_table(
        "transcripts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=36), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("engine", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("turns", sa.JSON(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_masked", sa.Text(), nullable=False),
        sa.Column("leg_problems", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_transcripts_call_id_calls"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_transcripts_ticket_id_tickets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transcripts")),
        sa.UniqueConstraint("call_id", name=op.f("uq_transcripts_call_id")),
    )
    op.create_index(op.f("ix_transcripts_ticket_id"), "transcripts", ["ticket_id"])
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("category_confidence", sa.Float(), nullable=True))
        batch.add_column(sa.Column("incident", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("incident_reasons", sa.Text(), nullable=False, server_default=""))

    # Accent-insensitive full-text search. The body is already folded by the application
    # (callcenter.domain.text.search_key: no diacritics, lower case), so "thieu thuoc" finds "thiếu thuốc"
    # on both engines; the engines' own folding is a second line of defence.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE ticket_search USING fts5(body, tokenize = 'unicode61 remove_diacritics 2')"
        )
    else:
        op.execute(
            "CREATE TABLE ticket_search ("
            " ticket_id INTEGER PRIMARY KEY REFERENCES tickets(id) ON DELETE CASCADE,"
            " body TEXT NOT NULL,"
            " tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED)"
        )
        op.execute("CREATE INDEX ix_ticket_search_tsv ON ticket_search USING gin (tsv)")


def downgrade() -> None:
    op.execute("DROP TABLE ticket_search")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("incident_reasons")
        batch.drop_column("incident")
        batch.drop_column("category_confidence")
    op.drop_index(op.f("ix_transcripts_ticket_id"), table_name="transcripts")
    op.drop_table("transcripts")
    op.drop_index(op.f("ix_transcription_jobs_ticket_id"), table_name="transcription_jobs")
    op.drop_index("ix_transcription_jobs_due", table_name="transcription_jobs")
    op.drop_table("transcription_jobs")
