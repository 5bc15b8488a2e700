"""The team: the owner invites by e-mail (a real SMTP server on loopback), the invited person
sets a password through the signed link, roles change and people are removed; staff never
reach credentials."""
from __future__ import annotations

import re
import time

import pytest

from core import team
from core.extensions import db
from core.models import Role, User
from core.services import save_settings, setting_changes


@pytest.fixture
def addons():
    return ["shopify"]


def _link(text: str) -> str:
    return re.search(r"(/invitation/[A-Za-z0-9._-]+)", text).group(1)


def test_owner_invites_by_email_and_the_link_works_once(app, client, login, post_form, org, smtp_server):
    owner = login(client, Role.OWNER)
    res = post_form("/team/invite", {"email": "Lea@Example.com", "name": "Léa", "role": "staff"}, page="/team")
    assert res.status_code == 302
    assert len(smtp_server.messages) == 1
    rcpt, message = smtp_server.messages[0]
    assert rcpt == ["Lea@Example.com"] and "Boutique Test" in message["Subject"]
    body = message.get_content()
    link = _link(body)
    invited = db.session.scalar(db.select(User).where(User.email == "Lea@Example.com"))
    assert invited.pending_invitation and invited.role == Role.STAFF and invited.invited_by_id == owner.id
    assert not invited.check_password("")  # no usable password before the link is used

    client.post("/logout", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"',
                                                          client.get("/team").get_data(as_text=True)).group(1)})
    res = post_form(link, {"password": "un mot de passe solide", "confirm": "un mot de passe solide"})
    assert res.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, invited.id).active
    assert client.get("/orders").status_code == 200  # signed in as staff
    assert client.get("/integrations/").status_code == 403
    assert client.get(link).status_code == 410  # used up


def test_without_smtp_the_owner_gets_the_link_to_pass_on(app, client, login, post_form):
    login(client, Role.OWNER)
    post_form("/team/invite", {"email": "picker@example.com", "role": "picker"}, page="/team")
    page = client.get("/team").get_data(as_text=True)
    assert "Aucun e-mail n" in page and "/invitation/" in page
    assert "/invitation/" not in client.get("/team").get_data(as_text=True)  # shown once


def test_links_expire_are_refused_when_forged_and_die_with_a_new_one(app, org, make_user):
    owner = make_user(org, Role.OWNER)
    with app.test_request_context():
        user = team.invite(org, owner, "x@example.com", "X", Role.PICKER)
        db.session.commit()
        first = team.invitation_token(user)
        assert team.invited_user(first).id == user.id
        team.renew(user)
        db.session.commit()
        with pytest.raises(team.TeamError, match="déjà servi"):
            team.invited_user(first)
        with pytest.raises(team.TeamError, match="pas valable"):
            team.invited_user(team.invitation_token(user)[:-3] + "abc")
        token = team.invitation_token(user)
    later = time.time() + team.INVITATION_DAYS * 86400 + 5
    with app.test_request_context(), pytest.MonkeyPatch.context() as mp:
        mp.setattr(team, "clock", lambda: later)
        with pytest.raises(team.TeamError, match="expiré"):
            team.invited_user(token)


def test_roles_change_people_leave_and_one_owner_always_stays(app, client, login, post_form, org, make_user):
    owner = login(client, Role.OWNER)
    staff = make_user(org, Role.STAFF, email="staff@example.com")
    res = post_form(f"/team/{staff.id}/role", {"role": "picker"}, page="/team")
    assert res.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, staff.id).role == Role.PICKER
    # the only owner cannot step down nor leave
    with app.test_request_context():
        with pytest.raises(team.TeamError, match="propriétaire"):
            team.set_role(org, owner, db.session.get(User, owner.id), Role.STAFF)
        with pytest.raises(team.TeamError, match="vous-même"):
            team.remove(org, owner, db.session.get(User, owner.id))
    post_form(f"/team/{staff.id}/remove", page="/team")
    db.session.expire_all()
    gone = db.session.get(User, staff.id)
    assert not gone.active and gone.removed_at is not None
    assert "staff@example.com" not in client.get("/team").get_data(as_text=True)


def test_another_organization_member_is_a_404(app, client, login, post_form, make_org, make_user):
    login(client, Role.OWNER)
    stranger = make_user(make_org("Autre"), Role.STAFF)
    assert post_form(f"/team/{stranger.id}/remove", page="/team").status_code == 404
    db.session.expire_all()
    assert db.session.get(User, stranger.id).active


def test_who_changed_which_setting_is_recorded_and_shown(app, client, login, post_form, shop_factory):
    owner = login(client, Role.OWNER)
    shop = shop_factory("shopify", "Ma boutique")
    res = post_form(f"/integrations/shopify/shops/{shop.id}/configure",
                    {"shop_domain": "ma-boutique.myshopify.com", "api_version": "2026-10", "access_token": "shpat_x"})
    assert res.status_code in (200, 302)
    changes = setting_changes(shop)
    assert changes and changes[0].by == owner.email and "access_token" in changes[0].fields
    assert "shpat_x" not in str(changes[0].fields)
    page = client.get(f"/integrations/shops/{shop.id}/log").get_data(as_text=True)
    assert owner.email in page and "Jeton d&#39;accès Admin API" in page
