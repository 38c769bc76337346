"""Look-alike addresses (issue 9, item 3): one normal form (NFKC, IDNA domains), and no account whose
address reads the same as another's (UTS #39 confusable skeleton)."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from tests.conftest import TEST_PASSWORD

FULLWIDTH_ADMIN = "".join(chr(0xFEE0 + ord(letter)) for letter in "admin")


async def _register(client: AsyncTestClient, email: str):  # type: ignore[no-untyped-def]
    return await client.post(
        "/api/v1/auth/register", json={"email": email, "password": TEST_PASSWORD, "display_name": "Someone"}
    )


async def test_look_alike_addresses_are_refused_and_one_normal_form_signs_in(client: AsyncTestClient) -> None:
    first = await _register(client, "admin@lookalike.coop")
    assert first.status_code == 201, first.text

    fullwidth = await _register(client, FULLWIDTH_ADMIN + "@lookalike.coop")
    assert fullwidth.status_code == 409
    assert fullwidth.json()["type"] == "urn:coop:problem:email-taken", "NFKC makes it the very same address"
    for lookalike in (
        "\u0430dmin@lookalike.coop",  # Cyrillic a
        "admin@l\u043e\u043ekalike.coop",  # Cyrillic o in the domain
        "adrnin@lookalike.coop",  # r + n for m
        "ADMIN@LOOKALIKE.COOP.",  # trailing dot, capitals: same address
    ):
        refused = await _register(client, lookalike)
        assert refused.status_code in (400, 409), lookalike
        if refused.status_code == 409:
            assert refused.json()["type"] in ("urn:coop:problem:email-lookalike", "urn:coop:problem:email-taken")
    assert (await _register(client, "\u0430dmin@lookalike.coop")).json()["type"] == "urn:coop:problem:email-lookalike"

    # A different address is fine, and an IDNA domain is stored in one form whichever way it is typed.
    assert (await _register(client, "camille@bücher.example")).status_code == 201
    again = await _register(client, "camille@xn--bcher-kva.example")
    assert again.status_code == 409 and again.json()["type"] == "urn:coop:problem:email-taken"

    signed_in = await client.post(
        "/api/v1/auth/sign-in", json={"email": FULLWIDTH_ADMIN + "@Lookalike.coop", "password": TEST_PASSWORD}
    )
    assert signed_in.status_code == 200, "the fullwidth spelling is the same account"
