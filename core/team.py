"""The organization's people: invitations by signed, expiring link, roles, removals.

An invitation creates the person's account inactive, with no usable password, and a link
``/invitation/<token>`` signed with the installation's secret key. The token names the
account and the first characters of its session token, which setting the password changes:
the link works once, for :data:`INVITATION_DAYS` days. The link is sent by e-mail
(:mod:`core.mail`) when the installation has an SMTP server, and shown to the owner
otherwise, to pass on.
"""
from __future__ import annotations

import secrets
import time

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from .extensions import db
from .models import Organization, Role, User, utcnow
from .i18n import _

INVITATION_DAYS = 7
SALT = "oms-invitation"
UNUSABLE_PASSWORD = "!invited"


#: seconds since the epoch (a test moves it to see a link expire)
clock = time.time


class TeamError(ValueError):
    """A refusal the owner reads as it is."""


def _serializer() -> URLSafeTimedSerializer:
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)
    serializer.signer = _clocked(serializer.signer)
    return serializer


def _clocked(signer_class):
    class Clocked(signer_class):  # type: ignore[misc, valid-type]
        def get_timestamp(self) -> int:
            return int(clock())

    return Clocked


def invitation_token(user: User) -> str:
    return _serializer().dumps({"u": user.id, "t": user.session_token[:16]})


def invited_user(token: str) -> User:
    """The person a still valid invitation link is for; :class:`TeamError` otherwise."""
    try:
        data = _serializer().loads(token, max_age=INVITATION_DAYS * 86400)
    except SignatureExpired:
        raise TeamError(_("ce lien d'invitation a expiré : demandez-en un nouveau à la personne qui vous a invité")) from None
    except BadSignature:
        raise TeamError(_("ce lien d'invitation n'est pas valable")) from None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.pending_invitation or not secrets.compare_digest(
            user.session_token[:16], str(data.get("t", ""))):
        raise TeamError(_("ce lien d'invitation a déjà servi ou a été annulé"))
    return user


def owners(org: Organization) -> list[User]:
    return list(db.session.scalars(select(User).where(
        User.organization_id == org.id, User.role == Role.OWNER, User.active.is_(True))))


def members(org: Organization) -> list[User]:
    """Everyone of the organization but removed people, owners first."""
    order = {Role.OWNER: 0, Role.STAFF: 1, Role.PICKER: 2}
    people = db.session.scalars(select(User).where(User.organization_id == org.id, User.removed_at.is_(None)))
    return sorted(people, key=lambda u: (order.get(u.role, 9), (u.name or u.email).lower()))


def invite(org: Organization, by: User, email: str, name: str, role: Role) -> User:
    email = email.strip()
    existing = db.session.scalar(select(User).where(func.lower(User.email) == email.lower()))
    if existing is not None and (existing.organization_id != org.id or existing.removed_at is None):
        if existing.organization_id == org.id and existing.pending_invitation:
            raise TeamError(_("%(email)s est déjà invité : renvoyez-lui le lien depuis la liste", email=email))
        raise TeamError(_("%(email)s a déjà un compte OMS%(value)s",
                          email=email, value=' dans votre équipe' if existing.organization_id == org.id else ''))
    user = existing or User(organization_id=org.id, email=email)
    user.name, user.role = name.strip(), Role(role)
    user.password_hash, user.active = UNUSABLE_PASSWORD, False
    user.invited_at, user.invited_by_id, user.removed_at = utcnow(), by.id, None
    user.revoke_sessions()
    if existing is None:
        db.session.add(user)
    db.session.flush()
    return user


def renew(user: User) -> User:
    """A fresh link for a pending invitation (the previous one stops working)."""
    if not user.pending_invitation:
        raise TeamError(_("cette personne a déjà rejoint l'équipe"))
    user.invited_at = utcnow()
    user.revoke_sessions()
    return user


def accept(user: User, password: str) -> User:
    user.set_password(password)  # also changes the session token: the link is used up
    user.active = True
    return user


def set_role(org: Organization, by: User, user: User, role: Role) -> None:
    role = Role(role)
    if user.role == Role.OWNER and role != Role.OWNER and _last_owner(org, user):
        raise TeamError(_("l'équipe doit garder au moins un propriétaire : nommez-en un autre d'abord"))
    if user.role != role:
        user.role = role
        if user.id != by.id:  # their pages change: they sign in again
            user.revoke_sessions()


def remove(org: Organization, by: User, user: User) -> None:
    if user.id == by.id:
        raise TeamError(_("vous ne pouvez pas vous retirer vous-même de l'équipe"))
    if user.role == Role.OWNER and _last_owner(org, user):
        raise TeamError(_("l'équipe doit garder au moins un propriétaire"))
    user.active = False
    user.removed_at = utcnow()
    user.revoke_sessions()  # signed out everywhere at once


def _last_owner(org: Organization, user: User) -> bool:
    return [u.id for u in owners(org)] == [user.id]
