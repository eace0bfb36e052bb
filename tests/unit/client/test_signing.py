"""``pantau_contracts.signing`` v2 as the README specifies it: the worked example's numbers."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess

import pytest

from pantau_contracts.signing import CanonicalError, CanonicalRequest, compute_v2, sign_request
from tests.conftest import REPO

SECRET = "dev-only-kota-bandung-dpmptsp-secret-NOT-FOR-PRODUCTION"


def readme_example() -> tuple[list[str], str, str]:
    """(request lines, canonical text, signature hex) from README's worked example."""
    text = (REPO / "README.md").read_text()
    example = text.split("<!-- v2-example -->")[1].split("<!-- /v2-example -->")[0]
    blocks = re.findall(r"```text\n(.*?)\n```", example, re.S)
    signature = re.search(r"X-Pantau-Signature: v2=([0-9a-f]{64})", example)
    assert len(blocks) == 2 and signature
    return blocks[0].split("\n"), blocks[1], signature.group(1)


def test_the_readme_worked_example_is_what_the_code_computes() -> None:
    request, canonical, signature = readme_example()
    method, target = request[0].split(" ")
    blank = request.index("")
    headers = [tuple(h.split(": ", 1)) for h in request[1:blank]]
    body = "\n".join(request[blank + 1:]).encode()
    sent = {name: value for name, value in headers if not name.startswith("X-Pantau")}
    timestamp = dict(headers)["X-Pantau-Timestamp"]
    built = CanonicalRequest.of(timestamp, method, target, sent.items()).for_body(body)
    assert built == canonical
    assert canonical.splitlines()[-1] == hashlib.sha256(body).hexdigest()
    assert compute_v2(SECRET, canonical) == signature
    auth = sign_request(SECRET, body, key_id="kota-bandung.dpmptsp.dev1", method=method,
                        target=target, headers=sent, timestamp=float(timestamp))
    assert auth["X-Pantau-Signature"] == f"v2={signature}"
    assert auth["X-Pantau-Timestamp"] == timestamp


def test_the_readme_curl_recipe_signs_as_the_code_does() -> None:
    """The DIGEST/CANONICAL/SIG lines of the README's shell example, run by bash + openssl."""
    text = (REPO / "README.md").read_text()
    recipe = [line for line in text.splitlines()
              if line.startswith(("DIGEST=", "CANONICAL=", "SIG="))][:3]
    assert len(recipe) == 3
    body = '{"specversion":"1.0",\n"data":{"note":"caf\u00e9"}}'
    env = {"PATH": os.environ["PATH"], "TS": "1767225600", "CT": "application/cloudevents+json",
           "BODY": body, "SECRET": SECRET}
    done = subprocess.run(["bash", "-c", "\n".join([*recipe, 'printf %s "$SIG"'])], env=env,
                          capture_output=True, text=True, check=True)
    expected = sign_request(SECRET, body.encode(), timestamp=1767225600,
                            headers={"Content-Type": env["CT"]})
    assert f"v2={done.stdout}" == expected["X-Pantau-Signature"]


def test_the_readme_shell_recipe_builds_the_same_text_for_structured_mode() -> None:
    body = b'{"a": 1}\n'
    shell = ("PANTAU-HMAC-SHA256-V2\n1767225600\nPOST\n/v1/events\n"
             f"application/cloudevents+json\n{hashlib.sha256(body).hexdigest()}")
    built = CanonicalRequest.of("1767225600", "post", "/v1/events",
                                [("Content-Type", " application/cloudevents+json ")])
    assert built.for_body(body) == shell


@pytest.mark.parametrize("headers", [
    [("ce-id", "caf\u00e9")],                    # not percent-encoded
    [("ce-id", "a"), ("CE-ID", "b")],            # sent twice
    [("Content-Type", "application/json"), ("content-type", "text/plain")],
    [("Content-Type", "application/json\nx")],   # a line break
])
def test_requests_without_a_canonical_form_are_refused(headers: list[tuple[str, str]]) -> None:
    with pytest.raises(CanonicalError):
        CanonicalRequest.of("1767225600", "POST", "/v1/events", headers)
