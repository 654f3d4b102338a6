"""A version number for what routing reads (facilities, rotations, overrides), bumped by triggers.

Each service node keeps the facility directory and the roster's schedule in memory and compares this
number inside every route_call's transaction: a change made anywhere (another node, the command line,
an import, a database console) is seen by the next call. Triggers, not application code, so that no
write path can forget it.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("facilities", "rotations", "overrides")
# An upsert, so that a row deleted by hand (or a TRUNCATE of every table) comes back at the next change
# instead of leaving the nodes' caches never invalidated; readers take a missing row as version 0.
BUMP = (
    "INSERT INTO cache_versions (name, version) VALUES ('routing', 1)"
    " ON CONFLICT (name) DO UPDATE SET version = cache_versions.version + 1"
)


def upgrade() -> None:
    op.create_table(
        "cache_versions",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_cache_versions")),
    )
    op.execute("INSERT INTO cache_versions (name, version) VALUES ('routing', 1)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION bump_routing_version() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {BUMP}; RETURN NULL; END $$"
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_routing_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_routing_version()"
            )
    else:
        for table in TABLES:
            for action in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_routing_version_{action.lower()} AFTER {action} ON {table} "
                    f"BEGIN {BUMP}; END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER {table}_routing_version ON {table}")
        op.execute("DROP FUNCTION bump_routing_version()")
    else:
        for table in TABLES:
            for action in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_routing_version_{action}")
    op.drop_table("cache_versions")
