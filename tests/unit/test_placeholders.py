"""URL templates: every date placeholder of real Open Connectors configurations, rendered; malformed ones quoted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from service.dates import PlaceholderError, compile_url, render_url

SINCE = datetime(2024, 1, 5, 10, 0, 0, 123456, tzinfo=UTC)  # window start: Friday 10:00:00.123456 UTC
NOW = datetime(2024, 1, 5, 10, 15, 0, tzinfo=UTC)  # window end


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # Zendesk, Sage CRM, Act! 365: GMT.
        ("/hubs/crm/accounts?where=Comp_UpdatedDate>'${gmtDate:yyyy-MM-dd'T'HH:mm:ss'Z'}'",
         "/hubs/crm/accounts?where=Comp_UpdatedDate>'2024-01-05T10:00:00Z'"),
        ("/x?where=updated>='${gmtDate:yyyy-MM-dd'T'HH:mm:ss.SSS'Z'}'", "/x?where=updated>='2024-01-05T10:00:00.123Z'"),
        ("/x?where=d>='${gmtDate:yyyy-MM-dd'T'HH:mm:ssXXX}'", "/x?where=d>='2024-01-05T10:00:00Z'"),
        # The server zone (UTC here).
        ("/x?where=_updated_since='${date:yyyy-MM-dd'T'HH:mm:ss'Z'}'",
         "/x?where=_updated_since='2024-01-05T10:00:00Z'"),
        # No format: ISO-8601 UTC with milliseconds (HubSpot).
        ("/hubs/crm/contacts?where=lastmodifieddate='${date}'",
         "/hubs/crm/contacts?where=lastmodifieddate='2024-01-05T10:00:00.123Z'"),
        ("/x?since=${gmtDate}", "/x?since=2024-01-05T10:00:00.123Z"),
        # A zone: IANA (QuickBooks), an offset with a colon, a Java id; the offset's `+` is encoded.
        ("/hubs/finance/payments?where=TimeModified >= '${dateTimeZone:America/Denver:yyyy-MM-dd'T'HH:mm:ss.SSS'Z'}'",
         "/hubs/finance/payments?where=TimeModified >= '2024-01-05T03:00:00.123Z'"),
        ("/x?d=${dateTimeZone:-8:00:yyyy-MM-dd'T'HH:mm:ssXXX}", "/x?d=2024-01-05T02:00:00-08:00"),
        ("/x?d=${dateTimeZone:+05:30:yyyy-MM-dd'T'HH:mm:ssXXX}", "/x?d=2024-01-05T15:30:00%2B05:30"),
        ("/x?d=${dateTimeZone:GMT-06:00:yyyy-MM-dd HH:mm}", "/x?d=2024-01-05%2004:00"),
        ("/x?d=${dateTimeZone:PST:yyyy-MM-dd HH:mm:ss z}", "/x?d=2024-01-05%2002:00:00%20PST"),
        ("/x?d=${DateTimeZone:EST:yyyy-MM-dd'T'HH:mm:ss}", "/x?d=2024-01-05T05:00:00"),  # descriptor case slip
        # The end of the window.
        ("/x?until=${nowTimeZone:UTC:yyyy-MM-dd'T'HH:mm:ss'Z'}", "/x?until=2024-01-05T10:15:00Z"),
        ("/x?until=${nowTimeZone:Asia/Kolkata:yyyy-MM-dd'T'HH:mm}", "/x?until=2024-01-05T15:45"),
        ("/x?until=${now:yyyy-MM-dd'T'HH:mm:ss'Z'}", "/x?until=2024-01-05T10:15:00Z"),
        # Epochs (NetSuite, HubSpot).
        ("/hubs/crm/accounts?where=lastModifiedDate >= '${epoch:ms}'",
         "/hubs/crm/accounts?where=lastModifiedDate >= '1704448800123'"),
        ("/x?since=${epoch}", "/x?since=1704448800123"),
        ("/x?since=${epoch:s}", "/x?since=1704448800"),
        ("/x?since=${EPOCH:US}", "/x?since=1704448800123456"),
        ("/x?since=${milliseconds}", "/x?since=1704448800123"),
        ("/x?since=${gmtDate:milliseconds}", "/x?since=1704448800123"),
        # Formats with quotes, colons, commas and spaces.
        ("/x?since=${gmtDate:EEE, dd MMM yyyy HH:mm:ss Z}", "/x?since=Fri,%2005%20Jan%202024%2010:00:00%20%2B0000"),
        ("/x?at=${gmtDate:h 'o''clock' a}", "/x?at=10%20o'clock%20AM"),
        # No placeholder; literal `$` of OData; braces that are no key.
        ("/hubs/helpdesk/resources/articles?where=category%20IS%20NOT%20NULL",
         "/hubs/helpdesk/resources/articles?where=category%20IS%20NOT%20NULL"),
        ("/odata/Accounts?$filter=Modified gt ${gmtDate:yyyy-MM-dd'T'HH:mm:ss'Z'}",
         "/odata/Accounts?$filter=Modified gt 2024-01-05T10:00:00Z"),
        ('/x?q={"a":1}', '/x?q={"a":1}'),
    ],
)
def test_placeholders(template: str, expected: str) -> None:
    assert render_url(template, SINCE, NOW) == expected


def test_configuration_keys_in_the_url_and_as_the_zone() -> None:
    # Zoho CRM: the zone comes from the instance configuration.
    template = "/hubs/crm/accounts?where='Modified Time'>'${dateTimeZone:{TimeZone}:yyyy-MM-dd HH:mm:ss}'"
    assert render_url(template, SINCE, NOW, {"TimeZone": "America/New_York"}) == (
        "/hubs/crm/accounts?where='Modified Time'>'2024-01-05%2005:00:00'"
    )
    assert render_url("/calendars/{calendarId}/events?q={q}", SINCE, NOW, {"calendarId": "a@b.c", "q": "x&y=z"}) == (
        "/calendars/a@b.c/events?q=x%26y%3Dz"
    )
    assert compile_url(template).config_keys == ("TimeZone",)


def test_server_zone() -> None:
    berlin = render_url("/x?d=${date:yyyy-MM-dd HH:mm}", SINCE, NOW, server_tz="Europe/Berlin")
    assert berlin == "/x?d=2024-01-05%2011:00"
    assert render_url("/x?d=${gmtDate:yyyy-MM-dd HH:mm}", SINCE, NOW, server_tz="Europe/Berlin") == (
        "/x?d=2024-01-05%2010:00"
    )


def test_missing_configuration_key() -> None:
    with pytest.raises(PlaceholderError, match="configuration key 'calendarId' is not set"):
        render_url("/calendars/{calendarId}/events", SINCE, NOW)
    with pytest.raises(PlaceholderError, match="'TimeZone' \\(the zone\\) is not set"):
        render_url("/x?d=${dateTimeZone:{TimeZone}:yyyy}", SINCE, NOW)
    with pytest.raises(PlaceholderError, match="unknown time zone 'Mars'"):
        render_url("/x?d=${dateTimeZone:{TimeZone}:yyyy}", SINCE, NOW, {"TimeZone": "Mars"})
    kept = compile_url("/calendars/{calendarId}/events?d=${dateTimeZone:{TZ}:yyyy-MM-dd}")
    assert kept.render(SINCE, NOW, keep_missing=True) == "/calendars/{calendarId}/events?d=2024-01-05"


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("/x?d=${gmtDate:yyyy-MM-dd'T}", "malformed placeholder \"${gmtDate:yyyy-MM-dd'T}\": unterminated quote"),
        ("/x?d='${gmtDate:yyyy-MM-dd'T}' and e='${date}'", "unterminated quote"),
        ("/x?d=${gmtDate:yyyy-MM-dd", "malformed placeholder '${gmtDate:yyyy-MM-dd': no closing '}'"),
        ("/x?d=${lastPollDate:yyyy}", "unknown descriptor 'lastPollDate'"),
        ("/x?d=${}", "unknown descriptor ''"),
        ("/x?d=${epoch:minutes}", "expected ${epoch}, ${epoch:s}"),
        ("/x?d=${milliseconds:s}", "expected ${epoch}"),
        ("/x?d=${dateTimeZone:America/Denver}", "expected ${...:ZONE:FORMAT}"),
        ("/x?d=${dateTimeZone:Mars/Base:yyyy}", "unknown time zone 'Mars/Base'"),
        ("/x?d=${dateTimeZone:{Time Zone}:yyyy}", "expected ${...:{configKey}:FORMAT}"),
        ("/x?d=${gmtDate:yyyy-MM-ddTHH}", "illegal pattern character 'T'"),
        ("/x?d={TimeZone", "unbalanced '{'"),
        ("/x?d=TimeZone}", "unbalanced '}'"),
    ],
)
def test_malformed_placeholders_are_quoted(template: str, reason: str) -> None:
    with pytest.raises(PlaceholderError) as caught:
        compile_url(template)
    assert reason in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_template_facts() -> None:
    assert compile_url("/x?d=${date}").has_date_placeholder
    assert compile_url("/x?d=${epoch:s}").has_date_placeholder
    assert not compile_url("/x?d={key}").has_date_placeholder
    assert compile_url("/x?d=${date}") is compile_url("/x?d=${date}")  # compiled once


def test_naive_window_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        render_url("/x?d=${date}", datetime(2024, 1, 5), NOW)
