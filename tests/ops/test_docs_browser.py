"""In Chromium: /docs loads under its Content-Security-Policy (the CDN's script, the page's inline script by
its hash, the OpenAPI document from this site), and an inline script injected into the page is blocked."""

from __future__ import annotations

from pathlib import Path

import pytest

# Stands in for the CDN (the tests have no internet): a Swagger UI that fetches the document it is given.
STUB_BUNDLE = """
window.SwaggerUIBundle = function (config) {
  fetch(config.url).then(function (answer) { return answer.json(); }).then(function (document_) {
    window.document.querySelector(config.dom_id).textContent = 'loaded: ' + document_.info.title;
  });
};
SwaggerUIBundle.presets = {apis: {}};
SwaggerUIBundle.SwaggerUIStandalonePreset = {};
"""
WATCH_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener('securitypolicyviolation', function (event) {
  window.cspViolations.push(event.violatedDirective + ' ' + event.blockedURI);
  document.documentElement.setAttribute('data-csp-violations', String(window.cspViolations.length));
});
"""


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_docs_page_loads_its_assets_under_its_policy_and_nothing_injected_runs(page, live_server, output_path):
    served: list[str] = []

    def cdn(route) -> None:
        served.append(route.request.url)
        if route.request.url.endswith(".js"):
            route.fulfill(status=200, content_type="application/javascript", body=STUB_BUNDLE)
        else:
            route.fulfill(status=200, content_type="text/css", body="#swagger-ui { font-family: sans-serif; }")

    page.route("https://cdn.jsdelivr.net/**", cdn)
    page.route("https://fastapi.tiangolo.com/**", lambda route: route.fulfill(status=204))
    page.add_init_script(WATCH_VIOLATIONS)
    page.goto(f"{live_server}/docs")
    # (waits by selector: Playwright's wait_for_function evaluates a string, which this very policy forbids)
    page.wait_for_selector("#swagger-ui:has-text('loaded:')")
    assert page.text_content("#swagger-ui") == "loaded: Partner Desk"
    assert any(url.endswith("swagger-ui-bundle.js") for url in served)
    assert any(url.endswith("swagger-ui.css") for url in served)
    assert page.evaluate("window.cspViolations") == []

    page.evaluate("""() => {
        const injected = document.createElement('script');
        injected.textContent = 'window.injectedRan = true';
        document.body.appendChild(injected);
    }""")
    page.wait_for_selector("html[data-csp-violations]", state="attached")
    assert page.evaluate("window.injectedRan === undefined")
    assert page.evaluate("window.cspViolations")[0].startswith("script-src")
    screenshots = Path(output_path)
    screenshots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshots / "docs-under-csp.png"))
