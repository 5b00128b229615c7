"""Whatever a browser (or anyone) posts to the portal, the answer is a page, never a 5xx."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partnerdesk.accounts.models import Role
from tests.support.portal import Page, signed_in

# Any text a form can carry (lone surrogates cannot be encoded, so no browser sends them).
form_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=300)
FIELDS = ("company_name", "domain", "first_name", "last_name", "email", "phone_number", "address_line1",
          "address_line2", "postal_code", "city", "region", "country", "culture", "language")


def test_no_posted_form_makes_a_page_fail(app, desk):
    admin = signed_in(app, desk, Role.admin_agent)

    @given(form=st.fixed_dictionaries({}, optional={name: form_text for name in FIELDS}))
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def add_customer(form: dict[str, str]) -> None:
        response = admin.post("/customers/new", form)
        assert response.status_code < 500, response.text
        assert response.status_code in (303, 400, 409)

    add_customer()


def test_no_sign_in_or_language_post_makes_a_page_fail(app, desk):
    visitor = signed_in(app, desk, Role.sales_agent)

    @given(email=form_text, password=form_text, next_path=form_text, language=form_text)
    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def post(email: str, password: str, next_path: str, language: str) -> None:
        signin = visitor.post("/signin", {"email": email, "password": password, "next": next_path})
        # 429: the same email guessed again and again is throttled (signin_failures_per_account).
        assert signin.status_code in (303, 400, 429), signin.text
        switch = visitor.post("/language", {"language": language, "next": next_path})
        assert switch.status_code in (303, 400), switch.text
        if switch.status_code == 303:
            assert switch.headers["location"].startswith("/")
            assert not switch.headers["location"].startswith("//")

    post()


def test_malformed_bodies_and_queries_get_pages(app, desk):
    admin = signed_in(app, desk, Role.admin_agent)
    headers = {"Content-Type": "multipart/form-data; boundary=nothing-like-this"}
    broken = admin.client.post("/customers/new", content=b"--x\r\n\r\n\xff\xfe", headers=headers)
    assert 400 <= broken.status_code < 500
    latin = admin.client.post("/customers/new", content=b"company_name=%FF%FE&csrf_token=" +
                              admin.csrf_token.encode(), headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert latin.status_code in (400, 409)
    for query in ("page=%FF", "q=%FF%FE", "q=" + "x" * 5000, "page=1e9&q=[]", "q=%5C%25"):
        assert admin.get(f"/customers?{query}").status_code == 200, query
    assert admin.get("/customers/" + "x" * 500).status_code == 404


def test_a_defect_on_a_page_is_a_logged_500_page_and_the_api_keeps_json(app, desk, actors, monkeypatch, caplog):
    from partnerdesk.customers import service

    def broken_search(*_args, **_kwargs):
        raise RuntimeError("a defect")

    admin = signed_in(app, desk, Role.admin_agent, accept_language="fr")
    monkeypatch.setattr(service, "search", broken_search)
    response = admin.get("/customers?q=secret-looking-text")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert Page.of(response).h1 == "Une erreur s’est produite"
    assert any("RuntimeError" in record.getMessage() for record in caplog.records)
    assert not any("secret-looking-text" in record.getMessage() for record in caplog.records)
    api = actors(Role.admin_agent).get("/v1/customers")
    assert api.status_code == 500
    assert api.json()["code"] == 9000

