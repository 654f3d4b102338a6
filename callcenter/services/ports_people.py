"""Ports for the people who work the tickets: users, web sessions, the audit log.

(Kept apart from ports.py so the people side and the ticket side can grow without stepping on each other.)
"""

from __future__ import annotations

from typing import Protocol


class UserRepository(Protocol):
    """Filled in with the web issue: create, find by username/id, update, list."""


class SessionRepository(Protocol):
    """Server-side web sessions (token hash, CSRF token, expiry)."""


class AuditRepository(Protocol):
    """Append-only audit log: who opened which ticket, listened to which recording."""
