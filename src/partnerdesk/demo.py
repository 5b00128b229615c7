"""Demo data: a partner with one agent per role and customers in several markets. Idempotent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from partnerdesk.accounts import service as accounts
from partnerdesk.accounts.models import Agent, Role
from partnerdesk.core.desk import Desk
from partnerdesk.customers import service as customers
from partnerdesk.customers.models import Customer
from partnerdesk.customers.schemas import CustomerIn
from partnerdesk.domains import demo_loaders, desk_demo_loaders

DEMO_PARTNER = "Contoso Reseller"
DEMO_PASSWORD = "demo"
DEMO_AGENTS = (
    ("operator@partnerdesk.example", Role.operator, "Olivia Operator", None),
    ("admin@contoso.example", Role.admin_agent, "Adele Admin", DEMO_PARTNER),
    ("sales@contoso.example", Role.sales_agent, "Samuel Sales", DEMO_PARTNER),
    ("helpdesk@contoso.example", Role.helpdesk_agent, "Hugo Helpdesk", DEMO_PARTNER),
    ("billing@contoso.example", Role.billing_admin, "Bianca Billing", DEMO_PARTNER),
)
# (domain, company, country, culture, language, city, email)
DEMO_CUSTOMERS = (
    ("fabrikam-fr.onmicrosoft.com", "Fabrikam France", "FR", "fr-FR", "fr", "Lyon", "it@fabrikam.fr"),
    ("wingtip-us.onmicrosoft.com", "Wingtip Toys", "US", "en-US", "en", "Seattle", "it@wingtiptoys.com"),
    ("adatum-de.onmicrosoft.com", "Adatum GmbH", "DE", "de-DE", "de", "Berlin", "it@adatum.de"),
    ("tailspin-br.onmicrosoft.com", "Tailspin Brasil", "BR", "pt-BR", "pt", "São Paulo", "ti@tailspin.com.br"),
    ("northwind-in.onmicrosoft.com", "Northwind India", "IN", "en-IN", "en", "Bengaluru", "it@northwind.in"),
    ("litware-gb.onmicrosoft.com", "Litware Ltd", "GB", "en-GB", "en", "London", "it@litware.co.uk"),
    ("proseware-jp.onmicrosoft.com", "Proseware KK", "JP", "ja-JP", "ja", "Tokyo", "it@proseware.jp"),
)


@dataclass
class DemoReport:
    agents_created: int = 0
    customers_created: int = 0
    notes: list[str] | None = None


def _ensure_agents(db: Session, now) -> int:
    created = 0
    for email, role, name, partner in DEMO_AGENTS:
        if db.scalar(select(Agent.id).where(Agent.email == email)) is None:
            accounts.add_agent(db, email=email, role=role, now=now, partner_name=partner, display_name=name,
                               password=DEMO_PASSWORD)
            created += 1
    return created


def _ensure_customers(db: Session, now) -> int:
    admin = accounts.principal_of(accounts.get_agent_by_email(db, "admin@contoso.example"))
    created = 0
    for domain, company, country, culture, language, city, email in DEMO_CUSTOMERS:
        if db.scalar(select(Customer.id).where(Customer.domain == domain)) is not None:
            continue
        data = CustomerIn.model_validate({
            "companyProfile": {"domain": domain, "companyName": company},
            "billingProfile": {"companyName": company, "email": email, "culture": culture, "language": language,
                               "defaultAddress": {"country": country, "city": city}},
        })
        customers.create_customer(db, principal=admin, data=data, now=now)
        created += 1
    return created


def load_demo(desk: Desk, log: Callable[[str], None] = lambda _message: None) -> DemoReport:
    now = desk.clock.now()
    report = DemoReport(notes=[])
    with desk.database.session() as db:
        report.agents_created = _ensure_agents(db, now)
        report.customers_created = _ensure_customers(db, now)
        for loader in demo_loaders():
            loader(db, now, log)
    for loader in desk_demo_loaders():
        loader(desk, now, log)
    return report


def database_is_empty(desk: Desk) -> bool:
    with desk.database.session(write=False) as db:
        return db.scalar(select(Agent.id).limit(1)) is None
