"""OMS → Fnac Darty on orders: ``orders_update`` with ``accept_order`` (line by line),
``confirm_to_send`` (carrier from ``carriers_query`` and tracking number) and ``refund_order``
(a cancellation after acceptance).

Every write reads the order first (``orders_query`` by its id): an earlier attempt whose
answer was lost may have gone through, and the buyer may have cancelled meanwhile. Only what
is still to do is sent, so nothing is sent twice. The answer is read order by order and line
by line: a 200 may accept one line and refuse another.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core import orders as order_flow
from core.extensions import db
from core.models import Order, Shipment, utcnow

from . import mapping
from .client import FnacClient, FnacError
from .models import FnacAccount, FnacOrder
from .sync import refresh_row, remote_order
from core.i18n import _

CARRIERS_TTL = timedelta(hours=24)


def _row(order: Order) -> FnacOrder | None:
    return db.session.scalar(select(FnacOrder).where(FnacOrder.order_id == order.id))


def _read(client: FnacClient, row: FnacOrder) -> mapping.FnacOrderFacts:
    found = remote_order(client, row.fnac_order_id)
    if found is None:
        raise FnacError(_("La commande %(fnac_order_id)s est introuvable chez Fnac Darty.",
                          fnac_order_id=row.fnac_order_id),
                        message_en=f"Order {row.fnac_order_id} not found at Fnac Darty.", retryable=False)
    facts = found[1]
    refresh_row(row, facts)
    return facts


def _send(client: FnacClient, el, order_id: str) -> mapping.OrderResult:
    answer = client.orders_update([el])
    result = mapping.read_update(answer.root).get(order_id)
    if result is None:
        raise FnacError(_("Fnac Darty n'a rien répondu pour la commande %(order_id)s ; nouvel essai plus tard.",
                          order_id=order_id),
                        message_en=f"Fnac Darty said nothing about order {order_id}; trying again later.",
                        retryable=True)
    return result


def _lines_of(row: FnacOrder, result: mapping.OrderResult) -> None:
    lines = dict(row.lines or {})
    for ln in result.lines:
        if ln.state and ln.detail_id in lines:
            lines[ln.detail_id] = {**lines[ln.detail_id], "state": ln.state}
    row.lines = lines
    if result.state:
        row.state = result.state


def decide(order: Order, accepted: bool, client: FnacClient) -> str:
    """Accept (stock allocated) or refuse each line still waiting for the seller."""
    row = _row(order)
    if row is None:
        return _("commande saisie hors Fnac Darty : rien à transmettre")
    facts = _read(client, row)
    waiting = facts.to_accept
    if facts.state != "Created" or not waiting:
        row.decision = row.decision or ("accepted" if facts.state in mapping.SHIPPABLE else "refused")
        order_flow.record(order, "channel", _("Fnac Darty : déjà %(state)s, aucune décision à transmettre",
                                              state=facts.state),
                          source="fnac")
        return _("déjà %(state)s", state=facts.state)
    result = _send(client, mapping.accept_order(facts.order_id, {ln.detail_id: accepted for ln in waiting}),
                   facts.order_id)
    _lines_of(row, result)
    done = [ln.detail_id for ln in result.lines if ln.ok]
    if done:
        row.decision = "accepted" if accepted else "refused"
        order_flow.record(order, "channel", _("Fnac Darty : commande acceptée (%(done)s ligne(s))", done=len(done))
                          if accepted else _("Fnac Darty : commande refusée (%(done)s ligne(s))", done=len(done)),
                          source="fnac",
                          data={"accepted": accepted, "lines": done})
    if not result.ok or result.failed_lines:
        order_flow.record(order, "channel", _("Fnac Darty n'a pas tout pris en compte : %(sentence)s",
                                              sentence=result.sentence()),
                          source="fnac")
        if not done:
            db.session.commit()
            raise FnacError(_("Fnac Darty a refusé la décision sur la commande %(order_id)s : %(sentence)s",
                              order_id=facts.order_id, sentence=result.sentence()),
                            message_en=f"Fnac Darty refused the decision on order {facts.order_id}: "
                                       f"{result.sentence()}", retryable=False)
    if accepted:
        return _("acceptée : %(done)s/%(waiting)s ligne(s)", done=len(done), waiting=len(waiting))
    return _("refusée : %(done)s/%(waiting)s ligne(s)", done=len(done), waiting=len(waiting))


def carriers(shop_id: int, client: FnacClient) -> list[mapping.Carrier]:
    """The carriers of ``carriers_query``, read once a day."""
    account = db.session.get(FnacAccount, shop_id)
    if account is None:
        account = FnacAccount(shop_id=shop_id, carriers=[])
        db.session.add(account)
    if not account.carriers or account.carriers_at is None or account.carriers_at < utcnow() - CARRIERS_TTL:
        found = mapping.read_carriers(client.carriers_query().root)
        account.carriers = [[c.code, c.name] for c in found]
        account.carriers_at = utcnow()
    return [mapping.Carrier(code, name) for code, name in account.carriers]


def confirm_shipment(shipment: Shipment, client: FnacClient) -> str:
    """Confirm the lines a shipment completes, with its carrier and tracking number."""
    order = shipment.order
    row = _row(order)
    if row is None:
        return _("commande saisie hors Fnac Darty : rien à transmettre")
    wanted = []
    partial = []
    for sl in shipment.lines:
        line = sl.order_line
        if sl.quantity <= 0 or not line.external_id:
            continue
        if order_flow.shipped_quantity(line) >= line.quantity:
            wanted.append(line.external_id)
        else:
            partial.append(line.sku)
    if partial:
        order_flow.record(order, "channel", _("Fnac Darty confirme une ligne entière : %(items)s sera confirmée "
                                              "quand toutes ses unités seront parties", items=', '.join(partial)), source="fnac")
    if not wanted:
        return _("aucune ligne complète à confirmer")
    facts = _read(client, row)
    states = facts.line_states
    if facts.state == "Created":
        raise FnacError(_("La commande %(order_id)s n'est pas encore acceptée chez Fnac Darty ; le suivi partira "
                          "après l'acceptation.", order_id=facts.order_id),
                        message_en=f"Order {facts.order_id} is not accepted at Fnac Darty yet; tracking follows "
                                   "the acceptance.", retryable=True)
    todo = [d for d in wanted if states.get(d) in ("Accepted", "ToShip")]
    already = [d for d in wanted if states.get(d) in ("Shipped", "Received", "NotReceived")]
    if not todo:
        if already:
            return _("déjà confirmée chez Fnac Darty (%(already)s ligne(s))", already=len(already))
        order_flow.record(order, "channel", f"Fnac Darty : commande {facts.state}, suivi non transmis",
                          source="fnac")
        return _("commande %(state)s : rien à confirmer", state=facts.state)
    name, known = mapping.carrier_name(shipment.carrier or "", shipment.service, carriers(order.shop_id, client))
    result = _send(client, mapping.confirm_to_send(facts.order_id, todo, shipment.tracking_number or "", name),
                   facts.order_id)
    _lines_of(row, result)
    done = [ln.detail_id for ln in result.lines if ln.ok]
    note = "" if known else " (transporteur absent de la liste Fnac Darty : pas de lien de suivi pour l'acheteur)"
    if done:
        order_flow.record(order, "channel", _("suivi %(value)s transmis à Fnac Darty (%(name)s, %(done)s "
                                              "ligne(s))%(note)s",
                                              value=shipment.tracking_number or '—', name=name, done=len(done), note=note), source="fnac",
                          data={"shipment": shipment.id, "lines": done})
    if not result.ok or result.failed_lines:
        sentence = result.sentence()
        order_flow.record(order, "channel", _("Fnac Darty a refusé une partie du suivi : %(sentence)s",
                                              sentence=sentence), source="fnac")
        db.session.commit()
        raise FnacError(_("Fnac Darty a refusé le suivi de la commande %(order_id)s : %(sentence)s",
                          order_id=facts.order_id, sentence=sentence),
                        message_en=f"Fnac Darty refused the tracking of order {facts.order_id}: {sentence}",
                        retryable=False)
    return _("%(done)s ligne(s) confirmée(s)", done=len(done))


def cancel(order: Order, client: FnacClient, reason: str = mapping.DEFAULT_REFUND_REASON) -> str:
    """An order cancelled in the OMS: refused if never accepted (done by ``decide``), refunded
    (``refund_order``) if accepted and not sent."""
    row = _row(order)
    if row is None:
        return _("commande saisie hors Fnac Darty : rien à transmettre")
    facts = _read(client, row)
    if facts.state == "Created":
        return _("pas encore acceptée : le refus est transmis par la décision")
    if facts.state in mapping.CLOSED:
        return _("déjà %(state)s chez Fnac Darty", state=facts.state)
    todo = [ln.detail_id for ln in facts.lines if ln.state in ("Accepted", "ToShip")]
    if not todo:
        order_flow.record(order, "channel", _("Fnac Darty : commande %(state)s, annulation à traiter dans le "
                                              "back-office Fnac Darty (remboursement)", state=facts.state), source="fnac")
        return _("commande %(state)s : rien à annuler", state=facts.state)
    result = _send(client, mapping.refund_order(facts.order_id, todo, reason), facts.order_id)
    _lines_of(row, result)
    done = [ln.detail_id for ln in result.lines if ln.ok]
    if done:
        order_flow.record(order, "channel", _("Fnac Darty : %(done)s ligne(s) remboursée(s) à l'acheteur (motif "
                                              "%(reason)s)", done=len(done), reason=reason), source="fnac", data={"lines": done, "reason": reason})
    if not result.ok or result.failed_lines:
        sentence = result.sentence()
        db.session.commit()
        raise FnacError(_("Fnac Darty a refusé l'annulation de la commande %(order_id)s : %(sentence)s",
                          order_id=facts.order_id, sentence=sentence),
                        message_en=f"Fnac Darty refused the cancellation of order {facts.order_id}: {sentence}",
                        retryable=False)
    return _("%(done)s ligne(s) remboursée(s)", done=len(done))
