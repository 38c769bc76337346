"""Authorization-matrix rows of the payments feature (gathered by tests/integration/platform).

A member sees their own quotes, invoices and ledger lines, a client its own quotes and invoices, an
administrator everything; to anyone else these objects do not exist (404). Actors call in the order
anonymous, client, other member, owner, admin, so a row may expect a later caller to find the state
an earlier one left (a quote already accepted, a milestone already invoiced).
"""

from __future__ import annotations

import uuid

from tests.integration.payments import matrix_setups as setups
from tests.integration.payments.helpers import quote_body
from tests.integration.platform.matrix import EVERYONE_SIGNED_IN, Rule, expect

P = "/api/v1/payments"
NOT_PAYABLE = frozenset({"urn:coop:problem:invoice-not-payable"})

ROWS: list[Rule] = [
    Rule(
        "POST",
        f"{P}/engagements/{{engagement_id}}/quotes",
        expect(201, 404, 403, 201, 401),
        url=lambda a: f"{P}/engagements/{a.context['engagement']}/quotes",
        body=quote_body(),
        setup=setups.engagement_of_owner,
        why="the engaged member quotes (an admin may too, superseding it); the client accepts, never writes",
    ),
    Rule("GET", f"{P}/quotes", EVERYONE_SIGNED_IN, why="each caller lists their own quotes (admins all)"),
    Rule(
        "GET",
        f"{P}/quotes/{{quote_id}}",
        expect(200, 404, 200, 200, 401),
        url=lambda a: f"{P}/quotes/{a.context['quote']}",
        setup=setups.proposed,
        why="the member's and the client's quote; to other members it does not exist",
    ),
    Rule(
        "POST",
        f"{P}/quotes/{{quote_id}}/accept",
        expect(403, 404, 200, 403, 401),
        url=lambda a: f"{P}/quotes/{a.context['quote']}/accept",
        setup=setups.proposed,
        why="only the client accepts",
    ),
    Rule(
        "POST",
        f"{P}/quotes/{{quote_id}}/revision",
        expect(403, 404, 200, 403, 401),
        url=lambda a: f"{P}/quotes/{a.context['quote']}/revision",
        body={"note": "Pouvez-vous revoir le planning ?"},
        setup=setups.proposed,
        why="only the client asks for a revision",
    ),
    Rule(
        "POST",
        f"{P}/milestones/{{milestone_id}}/deliver",
        expect(200, 404, 403, 409, 401),
        url=lambda a: f"{P}/milestones/{a.context['milestone']}/deliver",
        setup=setups.accepted,
        why="the engaged member delivers (admins may, but the owner already did: 409)",
    ),
    Rule(
        "POST",
        f"{P}/milestones/{{milestone_id}}/accept",
        expect(403, 404, 200, 403, 401),
        url=lambda a: f"{P}/milestones/{a.context['milestone']}/accept",
        setup=setups.delivered,
        why="only the client accepts delivered work",
    ),
    Rule(
        "POST",
        f"{P}/milestones/{{milestone_id}}/invoice",
        expect(201, 404, 403, 409, 401),
        url=lambda a: f"{P}/milestones/{a.context['milestone']}/invoice",
        setup=setups.accepted,
        why="issued for the engaged member (or an admin: already invoiced by then, 409)",
    ),
    Rule("GET", f"{P}/invoices", EVERYONE_SIGNED_IN, why="each caller lists their own invoices (admins all)"),
    Rule(
        "GET",
        f"{P}/invoices/{{invoice_id}}",
        expect(200, 404, 200, 200, 401),
        url=lambda a: f"{P}/invoices/{a.context['invoice']}",
        setup=setups.invoice,
        why="the member's and the client's invoice; to other members it does not exist",
    ),
    Rule(
        "GET",
        f"{P}/invoices/{{invoice_id}}/facturx",
        expect(200, 404, 200, 200, 401),
        url=lambda a: f"{P}/invoices/{a.context['invoice']}/facturx",
        setup=setups.invoice,
        why="the same invoice as Factur-X",
    ),
    Rule(
        "POST",
        f"{P}/invoices/{{invoice_id}}/credit-notes",
        expect(403, 403, 403, 201, 401),
        url=lambda a: f"{P}/invoices/{a.context['invoice']}/credit-notes",
        body={"amount_ht_minor": 1000, "reason": "Geste commercial"},
        setup=setups.invoice,
        why="credit notes are the administrators' act",
    ),
    Rule(
        "POST",
        f"{P}/invoices/{{invoice_id}}/payments",
        expect(403, 404, 409, 403, 401),
        url=lambda a: f"{P}/invoices/{a.context['invoice']}/payments",
        body={"method": "card"},
        setup=setups.credited_invoice,
        problem_types=NOT_PAYABLE,
        why="only the client pays its invoice (here wholly credited: the client gets 409 invoice-not-payable)",
    ),
    Rule(
        "POST",
        f"{P}/invoices/{{invoice_id}}/refunds",
        expect(403, 403, 403, 409, 401),
        url=lambda a: f"{P}/invoices/{a.context['invoice']}/refunds",
        body={"amount_minor": 100},
        setup=setups.invoice,
        problem_types=NOT_PAYABLE,
        why="refunds are the administrators' act (an unpaid invoice: 409 invoice-not-payable)",
    ),
    Rule(
        "GET",
        f"{P}/ledger/summary",
        expect(200, 200, 403, 200, 401),
        why="every member reads the cooperative's aggregated accounts; clients do not",
    ),
    Rule("GET", f"{P}/ledger/mine", EVERYONE_SIGNED_IN, why="the caller's own account only"),
    Rule(
        "GET",
        f"{P}/ledger/members/{{account_id}}",
        expect(200, 404, 404, 200, 401),
        url=lambda a: f"{P}/ledger/members/{a.owner.account_id}",
        why="the owner's lines: the owner and admins see them; to anyone else they do not exist",
    ),
    Rule("GET", f"{P}/ledger/fec", expect(403, 403, 403, 200, 401), why="the accountant's export is for admins"),
    Rule(
        "PUT",
        f"{P}/me/bank-account",
        expect(200, 200, 403, 403, 401),
        body={"holder_name": "Camille Martin", "iban": "FR7630006000011234567890189"},
        why="each admitted member records their own IBAN; nobody records one for someone else",
    ),
    Rule(
        "GET",
        f"{P}/me/bank-account",
        expect(200, 404, 404, 404, 401),
        setup=setups.owner_iban,
        why="the caller's own IBAN, masked; others have none on file (and never see the owner's)",
    ),
    Rule(
        "POST",
        f"{P}/payout-runs",
        expect(403, 403, 403, 409, 401),
        body={},
        why="administrators prepare runs (nobody is owed here: 409; the flow is in payments/test_payouts.py)",
    ),
    Rule(
        "GET",
        f"{P}/payout-runs",
        expect(403, 403, 403, 200, 401),
        why="the list of payout runs is for administrators",
    ),
    Rule(
        "GET",
        f"{P}/payout-runs/{{run_id}}",
        expect(403, 403, 403, 404, 401),
        url=lambda a: f"{P}/payout-runs/{uuid.uuid4()}",
        why="administrators only (an unknown run is 404)",
    ),
    Rule(
        "POST",
        f"{P}/payout-runs/{{run_id}}/approve",
        expect(403, 403, 403, 404, 401),
        url=lambda a: f"{P}/payout-runs/{uuid.uuid4()}/approve",
        why="administrators only, never the one who prepared the run (four-eyes: payments/test_payouts.py)",
    ),
    Rule(
        "GET",
        f"{P}/payout-runs/{{run_id}}/sepa",
        expect(403, 403, 403, 404, 401),
        url=lambda a: f"{P}/payout-runs/{uuid.uuid4()}/sepa",
        why="the bank file is for administrators",
    ),
    Rule(
        "POST",
        f"{P}/payout-lines/{{line_id}}/outcome",
        expect(403, 403, 403, 404, 401),
        url=lambda a: f"{P}/payout-lines/{uuid.uuid4()}/outcome",
        body={"outcome": "executed"},
        why="administrators record the bank's outcome",
    ),
]
