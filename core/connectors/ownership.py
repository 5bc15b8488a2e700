"""Which shop owns a remote account, by proof rather than by what was typed.

A shop that only typed a domain or a seller id into its settings owns nothing. A shop owns
an account when its installation proved it:

* ``oauth``: the remote's own authorization was completed for this shop (the remote only
  lets the account's administrator do that). The add-on calls :func:`claim` at that moment;
  one account has at most one such claim in the installation, so deliveries signed with the
  installation's shared app secret reach exactly that shop;
* its own secret: the merchant's own app (custom app) signs the deliveries with a secret
  only that shop holds. Nothing is recorded: the signature itself is the proof, checked on
  each delivery (:mod:`core.connectors.inbox`).
"""
from __future__ import annotations

from sqlalchemy import delete, select

from core.extensions import db
from core.models import Shop, utcnow

from .models import RemoteAccountClaim


class AccountClaimed(ValueError):
    """The account is already owned by a shop of another organization."""


def owner(addon: str, account: str) -> int | None:
    """The id of the shop holding the ``oauth`` claim of this account, if any."""
    return db.session.scalar(select(RemoteAccountClaim.shop_id).where(
        RemoteAccountClaim.addon == addon, RemoteAccountClaim.account == account))


def claim(addon: str, account: str, shop: Shop, proof: str = "oauth") -> RemoteAccountClaim:
    """Record that ``shop`` proved it owns ``account`` (call it once the proof is complete).

    A claim held by another shop of the same organization moves to this one (the merchant
    re-created the shop). A claim held by a shop of another organization is refused with
    :class:`AccountClaimed`: that organization must uninstall first (:func:`release`)."""
    row = db.session.scalar(select(RemoteAccountClaim).where(
        RemoteAccountClaim.addon == addon, RemoteAccountClaim.account == account).with_for_update())
    if row is not None and row.shop_id != shop.id:
        holder = db.session.get(Shop, row.shop_id)
        if holder is not None and holder.organization_id != shop.organization_id:
            raise AccountClaimed(account)
    if row is None:
        row = RemoteAccountClaim(addon=addon, account=account, shop_id=shop.id)
        db.session.add(row)
    db.session.execute(delete(RemoteAccountClaim).where(  # one account per shop and add-on
        RemoteAccountClaim.addon == addon, RemoteAccountClaim.shop_id == shop.id,
        RemoteAccountClaim.account != account))
    row.shop_id, row.proof, row.proved_at = shop.id, proof, utcnow()
    db.session.flush()
    return row


def release(addon: str, shop_id: int) -> None:
    """The shop no longer owns its account (the app was uninstalled from it)."""
    db.session.execute(delete(RemoteAccountClaim).where(
        RemoteAccountClaim.addon == addon, RemoteAccountClaim.shop_id == shop_id))
