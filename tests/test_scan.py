"""The one link filter, one-line cleaner, HTML-to-text and listed-code readers (tbt_alert.text)."""

from __future__ import annotations

import pytest

from tbt_alert.text.codes import codes_listed, hs_listed, ics_listed, labelled_codes
from tbt_alert.text.scan import fragment_lines, html_to_text, http_url, one_line


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (" https://docs.wto.org/x.pdf ", "https://docs.wto.org/x.pdf"),
        ("http://h/p?q=1", "http://h/p?q=1"),
        ("javascript:alert(1)", None),
        ("ftp://h/x", None),
        ("https:///nohost", None),
        ("https://h/a b", None),
        ("https://h/\u202e", None),
        (42, None),
    ],
)
def test_http_url(value, expected):
    assert http_url(value) == expected


def test_one_line_drops_controls_and_collapses_space():
    assert one_line(" a\x00b\x07\n\t c ") == "a b c"
    assert one_line(" \x01 ") is None


def test_html_to_text_and_lines_drop_hidden_content():
    markup = "<p>a<script>x()</script></p><iframe>f</iframe><blockquote>q</blockquote>b\x00"
    assert html_to_text(markup) == "a q b"
    assert "q" not in fragment_lines(markup, drop=frozenset({"blockquote"}))


def test_listed_codes_are_kept_as_written():
    assert hs_listed("870321 - Vehicles; 8708\n0701-0714 (vegetables)") == [
        "870321",
        "8708",
        "0701-0714",
    ]
    assert ics_listed("43.020; 59.") == ["43.020", "59."]
    assert codes_listed("6403, 6403 and 6404.19") == ["6403", "6404.19"]
    assert labelled_codes("Toys (HS code(s): 9503; ICS code(s): 97.200)", "HS") == ["9503; "]
