"""The consents part of the hostile walk's world (tests/hardening/walk_table.py): for the walk's
patient and provider, a draft plan, a plan waiting for approval, a plan with a consent to sign,
and a plan signed, with its surgical case booked into a theatre."""
import dataclasses

from apps.consents import services
from tests.consents.factories import Flow, TemplateFactory, preop_catalogue


@dataclasses.dataclass
class ConsentsWorld:
    draft_plan: object
    pending_plan: object
    consent_plan: object
    pending_consent: object
    signed_plan: object
    signed_consent: object
    case: object
    room: object
    preop_item: object
    template: object


def make_consents_world(patient, provider):
    preop_catalogue()
    template = TemplateFactory()
    draft = Flow(patient, surgeon=provider, template=template)
    draft.draft()
    pending = Flow(patient, surgeon=provider, template=template)
    pending.draft()
    services.procedure_plan_submit(plan=pending.plan, actor=pending.surgeon_user)
    to_sign = Flow(patient, surgeon=provider, template=template)
    to_sign.send()
    signed = Flow(patient, surgeon=provider, template=template)
    signed.book()
    return ConsentsWorld(
        draft_plan=draft.plan, pending_plan=pending.plan, consent_plan=to_sign.plan, pending_consent=to_sign.consent,
        signed_plan=signed.plan, signed_consent=signed.consent, case=signed.case, room=signed.booking.room,
        preop_item=signed.plan.preop_items.order_by("order", "id").first(), template=template,
    )
