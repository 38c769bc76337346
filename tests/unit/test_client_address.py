"""Rate-limit identity: one IPv4 address, or a whole IPv6 /64 (what one client usually holds)."""

from app.core.client_address import rate_limit_key


def test_ipv4_is_kept_whole() -> None:
    assert rate_limit_key("203.0.113.7") == "203.0.113.7"


def test_ipv6_is_grouped_by_64() -> None:
    assert rate_limit_key("2001:db8:1:2:aaaa::1") == rate_limit_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert rate_limit_key("2001:db8:1:3::1") != rate_limit_key("2001:db8:1:2::1")


def test_ipv4_mapped_ipv6_is_the_ipv4_address() -> None:
    assert rate_limit_key("::ffff:203.0.113.7") == "203.0.113.7"


def test_non_addresses_pass_through() -> None:
    assert rate_limit_key("testclient") == "testclient"
