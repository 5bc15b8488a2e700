"""Accounts: organizations, users and their roles."""
from __future__ import annotations

import secrets
from datetime import datetime, timezone
from decimal import Decimal

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..money import Amount
from .base import StrEnum, UTCDateTime, _enum, utcnow


class Role(StrEnum):
    OWNER = "owner"
    STAFF = "staff"
    PICKER = "picker"


class Plan(db.Model):
    """A subscription plan; ``monthly_order_limit`` None means unlimited."""

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    monthly_order_limit: Mapped[int | None] = mapped_column(Integer)
    monthly_price: Mapped[Decimal] = mapped_column(Amount, default=Decimal("0"))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")


class PlanChange(db.Model):
    """A change of an organization's plan: who made it (the operator's command) and when."""

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    from_plan: Mapped[str | None] = mapped_column(String(32))
    to_plan: Mapped[str] = mapped_column(String(32))
    by: Mapped[str] = mapped_column(String(120), default="")
    note: Mapped[str] = mapped_column(String(500), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Organization(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    plan_code: Mapped[str] = mapped_column(ForeignKey("plan.code"), default="free")
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    locale: Mapped[str] = mapped_column(String(8), default="fr")
    timezone: Mapped[str] = mapped_column(String(40), default="Europe/Paris")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    plan: Mapped[Plan] = relationship()
    shops: Mapped[list["Shop"]] = relationship(back_populates="organization", order_by="Shop.id")


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role), default=Role.STAFF)
    locale: Mapped[str | None] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: part of the session and remember-me cookies; changed on logout and password change,
    #: which revokes every cookie issued before
    session_token: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_hex(16))
    #: invited by the owner and not yet signed in (``active`` is False until the invitation
    #: link sets a password); removed people keep their row (their name stays on history)
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organization: Mapped[Organization] = relationship()

    @property
    def pending_invitation(self) -> bool:
        return not self.active and self.invited_at is not None and self.removed_at is None

    def set_password(self, password: str) -> None:
        from flask import current_app

        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)
        self.revoke_sessions()

    def revoke_sessions(self) -> None:
        """Sign out every browser of this user (sessions and remember-me cookies)."""
        self.session_token = secrets.token_hex(16)

    def get_id(self) -> str:  # Flask-Login: what the session and remember cookie carry
        if not self.session_token:
            self.revoke_sessions()
        return f"{self.id}:{self.session_token}"

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles
