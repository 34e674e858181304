"""`event.poller.configuration` as real Open Connectors configurations write it: shapes, spellings, defaults, and
errors that name the resource and the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from service.errors import ConfigError
from service.polling.fieldpath import MISSING, FieldPath
from service.polling.resources import PollerConfiguration, check_poller_configuration

# Shapes from the Open Connectors element documentation and public integrations.
HUBSPOT = {  # dotted paths, epoch milliseconds, `${date}`, the tolerance inside datesConfiguration
    "accounts": {
        "url": "/hubs/crm/accounts?where=lastmodifieddate='${date}'",
        "idField": "companyId",
        "filterByUpdatedDate": True,
        "datesConfiguration": {
            "updatedDateField": "properties.hs_lastmodifieddate",
            "updatedDateFormat": "milliseconds",
            "createdDateField": "properties.createdate",
            "createdDateFormat": "milliseconds",
            "createdCheckTolerance": 10,
        },
    }
}
ZOHO = {  # bracketed paths, the zone from the instance configuration
    "accounts": {
        "url": "/hubs/crm/accounts?where='Modified Time'>'${dateTimeZone:{TimeZone}:yyyy-MM-dd HH:mm:ss}'",
        "idField": "ACCOUNTID",
        "datesConfiguration": {
            "updatedDateField": "['Modified Time']",
            "updatedDateFormat": "yyyy-MM-dd HH:mm:ss",
            "createdDateField": "['Created Time']",
            "createdDateFormat": "yyyy-MM-dd HH:mm:ss",
        },
    }
}
FRESHDESK = {  # a case slip in a key; XXX zones in the data
    "contacts": {
        "url": "/hubs/helpdesk/contacts?where=_updated_since='${date:yyyy-MM-dd'T'HH:mm:ss'Z'}'",
        "idField": "id",
        "datesConfiguration": {
            "updatedDateField": "updated_at",
            "updatedDateFormat": "yyyy-MM-dd'T'HH:mm:ssXXX",
            "UpdatedDateTimezone": "America/New_York",
            "createdDateField": "created_at",
            "createdDateFormat": "yyyy-MM-dd'T'HH:mm:ssXXX",
            "createdDateTimezone": "America/New_York",
        },
    },
    "accounts": {
        "url": "/hubs/helpdesk/accounts",
        "idField": "customer.id",
        "datesConfiguration": {
            "updatedDateField": "customer.updated_at",
            "updatedDateFormat": "yyyy-MM-dd'T'HH:mm:ssXXX",
            "createdDateField": "customer.created_at",
            "createdDateFormat": "yyyy-MM-dd'T'HH:mm:ssXXX",
        },
    },
}
NETSUITE = {  # epoch placeholder, string-free numbers
    "accounts": {
        "url": "/hubs/crm/accounts?where=lastModifiedDate >= '${epoch:ms}'",
        "filterByUpdatedDate": True,
        "idField": "internalId",
        "datesConfiguration": {
            "updatedDateField": "lastModifiedDate",
            "updatedDateFormat": "milliseconds",
            "createdDateField": "dateCreated",
            "createdDateFormat": "milliseconds",
        },
        "createdCheckTolerance": 2,
        "pageSize": 200,
    }
}
ELEMENT_BUILDER = {  # keys element builders add that this service does not use
    "accounts": {
        "url": "/accounts?where=LastModifiedDate>'${gmtDate:yyyy-MM-dd'T'HH:mm:ss.SSS'Z'}'",
        "idField": "Id",
        "datesConfiguration": {
            "updatedDateField": "LastModifiedDate",
            "updatedDateFormat": "yyyy-MM-dd'T'HH:mm:ss.SSSZ",
            "updatedDateTimezone": "GMT",
            "createdDateField": "CreatedDate",
        },
        "createdCheckTolerance": 10,
        "batchSize": 200,
        "postHooks": [],
        "postHookPipelines": [],
        "useLastPollDate": True,
        "useHydrationBeforePostHooks": False,
        "objectName": "Account",
        "parameters": [],
    }
}


def one(config: dict[str, Any], name: str) -> Any:
    return PollerConfiguration.parse(config).resources[name]


def test_hubspot_dotted_paths_and_tolerance_inside_dates() -> None:
    accounts = one(HUBSPOT, "accounts")
    assert accounts.created_check_tolerance == timedelta(seconds=10)
    record = {"properties": {"hs_lastmodifieddate": "1704448800000"}}
    assert accounts.updated.path.get(record) == "1704448800000"
    assert accounts.updated.format.parse("1704448800000") == datetime(2024, 1, 5, 10, tzinfo=UTC)
    assert check_poller_configuration(HUBSPOT)["accounts"].warnings == []


def test_zoho_bracketed_paths_and_a_zone_from_the_instance() -> None:
    accounts = one(ZOHO, "accounts")
    assert accounts.updated.path.get({"Modified Time": "2024-01-05 10:00:00"}) == "2024-01-05 10:00:00"
    assert accounts.updated.format.tz == "GMT"  # no zone given: GMT


def test_freshdesk_case_slip_zone_and_nested_id() -> None:
    contacts = one(FRESHDESK, "contacts")
    assert contacts.updated.format.tz == "America/New_York"
    accounts = one(FRESHDESK, "accounts")
    assert accounts.id_field.get({"customer": {"id": 7}}) == 7
    assert check_poller_configuration(FRESHDESK)["accounts"].warnings == [
        "resources.accounts.url: no date placeholder: every poll reads all pages"
    ]


def test_netsuite_numbers_and_defaults() -> None:
    accounts = one(NETSUITE, "accounts")
    assert (accounts.page_size, accounts.created_check_tolerance) == (200, timedelta(seconds=2))
    assert accounts.poll_delay == timedelta(0)
    assert accounts.filter_by_current_date is False


def test_extra_element_builder_keys_are_accepted_silently() -> None:
    report = check_poller_configuration(ELEMENT_BUILDER)["accounts"]
    assert report.ok
    assert report.warnings == []
    assert report.resource is not None
    created = report.resource.created
    assert created is not None
    assert created.format.pattern == "yyyy-MM-dd'T'HH:mm:ss.SSSZ"  # the created format defaults to the updated one


def test_defaults() -> None:
    resource = one({"r": {"url": "/r?since=${date}", "idField": "id",
                          "datesConfiguration": {"updatedDateField": "u", "updatedDateFormat": "milliseconds"}}}, "r")
    assert resource.filter_by_updated_date is True
    assert resource.filter_by_current_date is False
    assert resource.created_check_tolerance == timedelta(0)
    assert resource.page_size == 20
    assert resource.poll_delay == timedelta(0)
    assert resource.created is None
    assert resource.object_type == "r"


def test_strings_for_booleans_and_numbers_and_json_strings() -> None:
    config = {
        "deals": {
            "url": "/deals?since=${gmtDate:yyyy-MM-dd}",
            "idField": "id",
            "filterByUpdatedDate": "false",
            "filterByCurrentDate": "TRUE",
            "datesConfiguration": orjson.dumps({"createdDateField": "created", "createdDateFormat": "yyyy-MM-dd",
                                                "createdDateTimezone": ""}).decode(),
            "pageSize": "50",
            "pollDelay": "90",
            "createdCheckTolerance": "1.5",
        }
    }
    for value in (config, orjson.dumps(config).decode(), orjson.dumps(config)):
        deals = PollerConfiguration.parse(value).resources["deals"]
        assert (deals.filter_by_updated_date, deals.filter_by_current_date) == (False, True)
        assert (deals.page_size, deals.poll_delay) == (50, timedelta(seconds=90))
        assert deals.created_check_tolerance == timedelta(seconds=1.5)
        assert deals.created is not None
        assert deals.created.format.tz == "GMT"  # empty means GMT
        assert deals.created.format.parse("2024-01-05") == datetime(2024, 1, 5, tzinfo=UTC)
        assert deals.filter_field is deals.created


def test_zones_beside_dates_configuration_and_inherited_by_created() -> None:
    config = {"files": {"url": "/files", "idField": "id", "updatedDateTimezone": "PST",
                        "datesConfiguration": {"updatedAtField": "modified", "updatedAtFormat": "MM/dd/yyyy HH:mm:ss",
                                               "createdAtField": "created"}}}
    files = one(config, "files")
    assert files.updated.format.tz == "PST"
    assert files.created.format == files.updated.format  # format and zone default to the updated date's


def test_parse_is_cached_by_content() -> None:
    assert PollerConfiguration.parse(HUBSPOT) is PollerConfiguration.parse(orjson.loads(orjson.dumps(HUBSPOT)))


def resource_errors(config: dict[str, Any], name: str = "deals") -> list[str]:
    return check_poller_configuration({name: config})[name].errors


BASE: dict[str, Any] = {
    "url": "/deals?since=${gmtDate:yyyy-MM-dd'T'HH:mm:ss'Z'}",
    "idField": "id",
    "datesConfiguration": {"updatedDateField": "updated", "updatedDateFormat": "yyyy-MM-dd'T'HH:mm:ss'Z'"},
}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"url": None}, "resources.deals.url: expected the resource URL (relative to the instance base URL)"),
        ({"url": "/deals?since=${gmtDate:yyyy-MM-dd'T}"}, "resources.deals.url: malformed placeholder"),
        ({"url": "/deals?since=${lastRun}"}, "resources.deals.url: malformed placeholder '${lastRun}': unknown"),
        ({"idField": ""}, "resources.deals.idField: expected a field name or path"),
        ({"idField": 3}, "resources.deals.idField: expected a field name or path, not int"),
        ({"idField": "a["}, "resources.deals.idField: cannot read field path 'a['"),
        ({"filterByUpdatedDate": "maybe"}, "resources.deals.filterByUpdatedDate: expected true or false, not 'maybe'"),
        ({"filterByCurrentDate": 2}, "resources.deals.filterByCurrentDate: expected true or false, not 2"),
        ({"pageSize": 0}, "resources.deals.pageSize: expected a whole number >= 1, not 0"),
        ({"pageSize": "2.5"}, "resources.deals.pageSize: expected a whole number >= 1, not '2.5'"),
        ({"pollDelay": -1}, "resources.deals.pollDelay: expected a number of seconds >= 0, not -1"),
        ({"createdCheckTolerance": "soon"}, "resources.deals.createdCheckTolerance: expected a number of seconds"),
        ({"datesConfiguration": []}, "resources.deals.datesConfiguration: expected an object"),
        ({"datesConfiguration": "{nope"}, "resources.deals.datesConfiguration: expected an object (or a JSON string"),
        ({"datesConfiguration": {}}, "resources.deals.datesConfiguration.updatedDateField: expected the field holding"),
        ({"filterByUpdatedDate": False}, "resources.deals.datesConfiguration.createdDateField: expected the field"),
        ({"datesConfiguration": {"updatedDateField": "u"}},
         "resources.deals.datesConfiguration.updatedDateFormat: expected a Java SimpleDateFormat pattern"),
        ({"datesConfiguration": {"updatedDateField": "u", "updatedDateFormat": "yyyy-MM-dd'T'HH:mm:ss'"}},
         "resources.deals.datesConfiguration.updatedDateFormat: invalid date pattern \"yyyy-MM-dd'T'HH:mm:ss'\": "
         "unterminated quote"),
        ({"datesConfiguration": {"updatedDateField": "u", "updatedDateFormat": "yyyy", "updatedDateTimezone": "Mars"}},
         "resources.deals.datesConfiguration.updatedDateTimezone: unknown time zone 'Mars'"),
        ({"datesConfiguration": {"updatedDateField": "u", "updatedDateFormat": "yyyy", "updatedDateTimezone": 5}},
         "resources.deals.datesConfiguration.updatedDateTimezone: expected a time zone name or offset, not 5"),
    ],
)
def test_each_error_names_resource_field_and_expectation(change: dict[str, Any], expected: str) -> None:
    errors = resource_errors({**BASE, **change})
    assert any(error.startswith(expected) for error in errors), errors


def test_every_problem_is_reported_at_once() -> None:
    errors = resource_errors({"idField": "", "pageSize": "x", "datesConfiguration": {}})
    assert len(errors) == 4  # url, idField, pageSize, updatedDateField
    with pytest.raises(ConfigError) as caught:
        PollerConfiguration.parse({"deals": {"idField": ""}, "notes": "nope"})
    message = str(caught.value)
    assert "resources.deals.url" in message
    assert "resources.deals.idField" in message
    assert "resources.notes: expected an object with url, idField and datesConfiguration" in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("{nope", "event.poller.configuration: not valid JSON"),
        ("[]", "event.poller.configuration: expected an object of resources"),
        ({}, "event.poller.configuration: expected an object of resources"),
        (42, "event.poller.configuration: expected an object of resources"),
    ],
)
def test_whole_value_errors(value: object, expected: str) -> None:
    report = check_poller_configuration(value)["*"]
    assert report.errors[0].startswith(expected)
    with pytest.raises(ConfigError, match=r"event\.poller\.configuration"):
        PollerConfiguration.parse(value)


def test_warnings_are_apart_from_errors() -> None:
    report = check_poller_configuration({"deals": {**BASE, "url": "/deals", "pageSzie": 50}})["deals"]
    assert report.ok
    assert report.warnings == [
        "resources.deals.pageSzie: unknown key, ignored",
        "resources.deals.url: no date placeholder: every poll reads all pages",
    ]


@pytest.mark.parametrize(
    ("path", "record", "expected"),
    [
        ("id", {"id": 1}, 1),
        ("properties.hs_lastmodifieddate", {"properties": {"hs_lastmodifieddate": "x"}}, "x"),
        ("['Modified Time']", {"Modified Time": "x"}, "x"),
        ('["Modified Time"]', {"Modified Time": "x"}, "x"),
        ("data.items[1].id", {"data": {"items": [{"id": 1}, {"id": 2}]}}, 2),
        ("fields['Last Modified'].value", {"fields": {"Last Modified": {"value": 3}}}, 3),
        ("customer.id", {"customer.id": 9}, 9),  # a key spelled with dots, when nothing is nested there
        ("customer.id", {"customer": {}}, MISSING),
        ("items[5]", {"items": [1]}, MISSING),
        ("id", ["not", "a", "record"], MISSING),
    ],
)
def test_field_paths(path: str, record: object, expected: object) -> None:
    found = FieldPath.parse(path).get(record)
    if expected is MISSING:
        assert found is MISSING
    else:
        assert found == expected
