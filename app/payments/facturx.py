"""Factur-X rendering of an issued invoice or credit note: the CII XML (profile EN 16931), a one-page
PDF drawn with fpdf2, and both joined into a PDF/A-3 by the `factur-x` package (which also checks
the XML against the official XSD before embedding it).

Reads an `Invoice` row and returns bytes; never stores anything.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from facturx import generate_from_binary, xml_check_xsd
from fpdf import FPDF
from lxml import etree

from app.models import Invoice

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
NSMAP = {"rsm": RSM, "ram": RAM, "udt": UDT}
LEVEL = "en16931"
# A Unicode TrueType font to embed (PDF/A wants embedded fonts); the core Helvetica is the fallback.
FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
)


def _amount(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    minor = abs(minor)
    return f"{sign}{minor // 100}.{minor % 100:02d}"


def _percent(basis_points: int) -> str:
    return f"{basis_points / 100:.2f}"


def _el(parent: Any, tag: str, text: str | None = None, **attributes: str) -> Any:
    prefix, name = tag.split(":")
    node = etree.SubElement(parent, f"{{{NSMAP[prefix]}}}{name}", **attributes)
    if text is not None:
        node.text = text
    return node


def _date(parent: Any, tag: str, value: date) -> None:
    _el(_el(parent, tag), "udt:DateTimeString", value.strftime("%Y%m%d"), format="102")


def _party(parent: Any, tag: str, details: dict[str, Any]) -> None:
    node = _el(parent, tag)
    _el(node, "ram:Name", details["name"])
    if details.get("siren"):
        _el(_el(node, "ram:SpecifiedLegalOrganization"), "ram:ID", details["siren"], schemeID="0002")
    lines = [line.strip() for line in str(details.get("address", "")).splitlines() if line.strip()]
    address = _el(node, "ram:PostalTradeAddress")
    if lines:
        _el(address, "ram:LineOne", lines[0])
    if len(lines) > 1:
        _el(address, "ram:LineTwo", " ".join(lines[1:]))
    _el(address, "ram:CountryID", details.get("country", "FR"))
    if details.get("vat_number"):
        _el(_el(node, "ram:SpecifiedTaxRegistration"), "ram:ID", details["vat_number"], schemeID="VA")


def _category(rate_bp: int) -> str:
    return "S" if rate_bp > 0 else "E"


def cii_xml(invoice: Invoice, *, credited_reference: str | None = None, exemption: str | None = None) -> bytes:
    root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=NSMAP)
    context = _el(root, "rsm:ExchangedDocumentContext")
    _el(_el(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", "urn:cen.eu:en16931:2017")
    document = _el(root, "rsm:ExchangedDocument")
    _el(document, "ram:ID", invoice.reference)
    _el(document, "ram:TypeCode", "381" if invoice.kind == "credit_note" else "380")
    _date(document, "ram:IssueDateTime", invoice.issue_date)
    for mention in invoice.mentions:
        _el(_el(document, "ram:IncludedNote"), "ram:Content", mention)

    transaction = _el(root, "rsm:SupplyChainTradeTransaction")
    for position, line in enumerate(invoice.lines, start=1):
        item = _el(transaction, "ram:IncludedSupplyChainTradeLineItem")
        _el(_el(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(position))
        _el(_el(item, "ram:SpecifiedTradeProduct"), "ram:Name", line["description"])
        agreement = _el(item, "ram:SpecifiedLineTradeAgreement")
        _el(_el(agreement, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount", _amount(line["unit_price_minor"]))
        _el(_el(item, "ram:SpecifiedLineTradeDelivery"), "ram:BilledQuantity", str(line["quantity"]), unitCode="C62")
        settlement = _el(item, "ram:SpecifiedLineTradeSettlement")
        tax = _el(settlement, "ram:ApplicableTradeTax")
        _el(tax, "ram:TypeCode", "VAT")
        _el(tax, "ram:CategoryCode", _category(line["vat_rate_bp"]))
        _el(tax, "ram:RateApplicablePercent", _percent(line["vat_rate_bp"]))
        summation = _el(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
        _el(summation, "ram:LineTotalAmount", _amount(line["total_ht_minor"]))

    agreement = _el(transaction, "ram:ApplicableHeaderTradeAgreement")
    _party(agreement, "ram:SellerTradeParty", invoice.seller)
    _party(agreement, "ram:BuyerTradeParty", invoice.buyer)
    _el(transaction, "ram:ApplicableHeaderTradeDelivery")
    settlement = _el(transaction, "ram:ApplicableHeaderTradeSettlement")
    _el(settlement, "ram:InvoiceCurrencyCode", invoice.currency)
    by_rate: dict[int, list[int]] = {}
    for line in invoice.lines:
        basis = by_rate.setdefault(line["vat_rate_bp"], [0, 0])
        basis[0] += line["total_ht_minor"]
        basis[1] += line["vat_minor"]
    for rate, (basis, vat) in sorted(by_rate.items()):
        tax = _el(settlement, "ram:ApplicableTradeTax")
        _el(tax, "ram:CalculatedAmount", _amount(vat))
        _el(tax, "ram:TypeCode", "VAT")
        if rate == 0:
            _el(tax, "ram:ExemptionReason", exemption or "Exonération de TVA")
        _el(tax, "ram:BasisAmount", _amount(basis))
        _el(tax, "ram:CategoryCode", _category(rate))
        _el(tax, "ram:RateApplicablePercent", _percent(rate))
    _date(_el(settlement, "ram:SpecifiedTradePaymentTerms"), "ram:DueDateDateTime", invoice.due_date)
    summation = _el(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _el(summation, "ram:LineTotalAmount", _amount(invoice.total_ht_minor))
    _el(summation, "ram:TaxBasisTotalAmount", _amount(invoice.total_ht_minor))
    _el(summation, "ram:TaxTotalAmount", _amount(invoice.total_vat_minor), currencyID=invoice.currency)
    _el(summation, "ram:GrandTotalAmount", _amount(invoice.total_ttc_minor))
    _el(summation, "ram:DuePayableAmount", _amount(invoice.total_ttc_minor))
    if credited_reference:
        _el(_el(settlement, "ram:InvoiceReferencedDocument"), "ram:IssuerAssignedID", credited_reference)
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    xml_check_xsd(xml, flavor="factur-x", level=LEVEL)
    return xml


def _pdf(invoice: Invoice, credited_reference: str | None) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(invoice.reference)
    pdf.set_author(invoice.seller["name"])
    pdf.add_page()
    font = next((path for path in FONT_CANDIDATES if path.exists()), None)
    if font is not None:
        pdf.add_font("Body", fname=str(font))
        family = "Body"
    else:
        family = "Helvetica"

    def text(value: str) -> str:
        return value if font is not None else value.encode("latin-1", "replace").decode("latin-1")

    def write(value: str, size: int = 10, height: float = 5) -> None:
        pdf.set_font(family, size=size)
        pdf.multi_cell(0, height, text(value), new_x="LMARGIN", new_y="NEXT")

    title = "Avoir" if invoice.kind == "credit_note" else "Facture"
    write(f"{title} {invoice.reference}", size=16, height=9)
    write(f"Date d'émission : {invoice.issue_date.isoformat()}    Échéance : {invoice.due_date.isoformat()}")
    if credited_reference:
        write(f"Avoir sur la facture {credited_reference}")
    for label, party in (("Vendeur", invoice.seller), ("Acheteur", invoice.buyer)):
        ids = " ".join(
            f"{name} {party[key]}"
            for key, name in (("siret", "SIRET"), ("siren", "SIREN"), ("vat_number", "TVA"))
            if party.get(key)
        )
        write(f"{label} : {party['name']}\n{party.get('address', '')}\n{ids}")
    for line in invoice.lines:
        write(
            f"- {line['description']} : {line['quantity']} x {_amount(line['unit_price_minor'])} {invoice.currency}"
            f" HT, TVA {_percent(line['vat_rate_bp'])} % = {_amount(line['vat_minor'])} {invoice.currency}"
        )
    write(
        f"Total HT {_amount(invoice.total_ht_minor)}   TVA {_amount(invoice.total_vat_minor)}"
        f"   Total TTC {_amount(invoice.total_ttc_minor)} {invoice.currency}",
        size=11,
    )
    for mention in invoice.mentions:
        write(mention, size=8, height=4)
    return bytes(pdf.output())


def render(invoice: Invoice, *, credited_reference: str | None = None, exemption: str | None = None) -> bytes:
    """The Factur-X PDF/A-3 of the invoice, with its CII XML embedded as factur-x.xml."""
    xml = cii_xml(invoice, credited_reference=credited_reference, exemption=exemption)
    return generate_from_binary(
        _pdf(invoice, credited_reference),
        xml,
        flavor="factur-x",
        level=LEVEL,
        check_xsd=True,
        pdf_metadata={
            "author": invoice.seller["name"],
            "keywords": "Factur-X, invoice",
            "title": f"{invoice.reference}",
            "subject": f"Invoice {invoice.reference}",
        },
        lang="fr-FR",
    )
