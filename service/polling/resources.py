"""`event.poller.configuration`: the per-resource polling rules of Open Connectors, parsed leniently, checked strictly.

Accepted as an object or a JSON string; keys in either spelling (`updatedDateField` / `updatedAtField`) and with
case slips (`UpdatedDateTimezone`); string booleans and numbers; the extra keys real configurations carry
(`batchSize`, `postHooks`, `useLastPollDate`...). Every problem names the resource and the field and says what was
expected; warnings (a URL without a date placeholder, an unknown key) are reported apart.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from service.dates import DateFormat, DateFormatError, PlaceholderError, compile_url, parse_zone
from service.errors import ConfigError
from service.polling.fieldpath import FieldPath
from service.polling.paginate import Pagination

_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}

# Canonical key -> the lower-case spellings seen in real configurations.
_DATE_KEYS = {
    "updated_field": ("updateddatefield", "updatedatfield"),
    "updated_format": ("updateddateformat", "updatedatformat"),
    "updated_zone": ("updateddatetimezone", "updatedattimezone", "updateddatezone"),
    "created_field": ("createddatefield", "createdatfield"),
    "created_format": ("createddateformat", "createdatformat"),
    "created_zone": ("createddatetimezone", "createdattimezone", "createddatezone"),
    "tolerance": ("createdchecktolerance",),
}
_RESOURCE_KEYS = {
    "url", "idfield", "filterbyupdateddate", "filterbycurrentdate", "datesconfiguration", "createdchecktolerance",
    "pagesize", "polldelay", "recordspath", "newestfirst", "objecttype", "pagination",
    # Zones at the resource level (Open Connectors' own examples put updatedDateTimezone here).
    "updateddatetimezone", "createddatetimezone",
}
# Open Connectors keys this service does not use: accepted without a warning.
_IGNORED_KEYS = {
    "batchsize", "posthooks", "posthookpipelines", "uselastpolldate", "usehydrationbeforeposthooks", "objectname",
    "parameters", "name", "eventtypes",
}


class DateField(BaseModel):
    """Where a record keeps a date and how it is written (the format carries the zone)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    path: FieldPath
    format: DateFormat


class ResourceConfig(BaseModel):
    """The polling rules of one resource."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    url: str
    id_field: FieldPath
    updated: DateField | None
    created: DateField | None
    filter_by_updated_date: bool = True
    filter_by_current_date: bool = False
    created_check_tolerance: timedelta = timedelta(0)
    page_size: int = 20
    poll_delay: timedelta = timedelta(0)
    records_path: str | None = None
    newest_first: bool = False
    # Overrides the element's pagination style for this resource (one API, several styles).
    pagination: Pagination | None = None
    object_type: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def filter_field(self) -> DateField:
        """The date that decides whether a record is in the window."""
        chosen = self.updated if self.filter_by_updated_date else self.created
        if chosen is None:  # parse() guarantees it; kept for type narrowing
            raise ConfigError(f"resource {self.name!r} has no date to filter on")
        return chosen


@dataclass
class ResourceReport:
    """What checking one resource found."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    resource: ResourceConfig | None = None

    @property
    def ok(self) -> bool:
        """No errors."""
        return not self.errors


class PollerConfiguration(BaseModel):
    """Every resource of an `event.poller.configuration`."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    resources: dict[str, ResourceConfig]

    @classmethod
    def parse(cls, value: object) -> PollerConfiguration:
        """Parse and validate (cached by content: the poller parses the same value on every poll).

        Raises:
            ConfigError: listing `resources.<name>.<field>: <what was expected>` for each problem.
        """
        try:  # keys keep their order: it is the order of the resources
            text = value if isinstance(value, str) else orjson.dumps(value).decode()
        except TypeError:  # not JSON-serializable (bytes, odd keys): parse without the cache
            text = None
        return _parse_cached(text) if text is not None else _parse(value)


@lru_cache(maxsize=256)
def _parse_cached(text: str) -> PollerConfiguration:
    return _parse(text)


def _parse(value: object) -> PollerConfiguration:
    reports = check_poller_configuration(value)
    problems = [problem for report in reports.values() for problem in report.errors]
    if problems:
        raise ConfigError("invalid event.poller.configuration: " + "; ".join(problems))
    return PollerConfiguration(
        resources={name: report.resource for name, report in reports.items() if report.resource is not None}
    )


def check_poller_configuration(value: object) -> dict[str, ResourceReport]:
    """Check every resource without raising; a problem with the whole value is reported under the name `*`."""
    if isinstance(value, str | bytes):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            return {"*": ResourceReport(errors=[f"event.poller.configuration: not valid JSON: {exc}"])}
    if not isinstance(value, Mapping) or not value:
        return {"*": ResourceReport(errors=["event.poller.configuration: expected an object of resources"])}
    return {str(name): _check_resource(str(name), raw) for name, raw in value.items()}


class _Problems:
    def __init__(self, resource: str) -> None:
        self.resource = resource
        self.errors: list[str] = []

    def add(self, key: str, message: str) -> None:
        self.errors.append(f"resources.{self.resource}.{key}: {message}" if key else
                           f"resources.{self.resource}: {message}")


def _check_resource(name: str, raw: object) -> ResourceReport:
    problems = _Problems(name)
    if not isinstance(raw, Mapping):
        problems.add("", "expected an object with url, idField and datesConfiguration")
        return ResourceReport(errors=problems.errors)
    keys = {str(k).lower(): v for k, v in raw.items()}
    warnings = [f"resources.{name}.{k}: unknown key, ignored" for k in raw
                if str(k).lower() not in _RESOURCE_KEYS | _IGNORED_KEYS]
    dates_raw = keys.get("datesconfiguration", {})
    if isinstance(dates_raw, str):
        try:
            dates_raw = orjson.loads(dates_raw)
        except orjson.JSONDecodeError:
            problems.add("datesConfiguration", "expected an object (or a JSON string of one)")
    if not isinstance(dates_raw, Mapping):
        problems.add("datesConfiguration", "expected an object")
        dates_raw = {}
    dates = _canonical_dates(dates_raw)
    for which in ("updated", "created"):  # a zone given beside datesConfiguration
        if f"{which}_zone" not in dates and f"{which}datetimezone" in keys:
            dates[f"{which}_zone"] = keys[f"{which}datetimezone"]

    url = _url(keys.get("url"), name, problems, warnings)
    id_field = _path(keys.get("idfield"), "idField", problems, required=True)
    by_updated = _bool(keys.get("filterbyupdateddate", True), "filterByUpdatedDate", problems)
    by_current = _bool(keys.get("filterbycurrentdate", False), "filterByCurrentDate", problems)
    updated = _date_field(dates, "updated", problems, required=by_updated)
    created = _date_field(dates, "created", problems, required=not by_updated, fallback=dates)
    tolerance = _number(
        keys.get("createdchecktolerance", dates.get("tolerance", 0)), "createdCheckTolerance", problems, minimum=0
    )
    page_size = _number(keys.get("pagesize", 20), "pageSize", problems, minimum=1, integer=True)
    poll_delay = _number(keys.get("polldelay", 0), "pollDelay", problems, minimum=0)
    newest_first = _bool(keys.get("newestfirst", False), "newestFirst", problems)
    records_path = keys.get("recordspath")
    if records_path is not None and not isinstance(records_path, str):
        problems.add("recordsPath", "expected a dotted path to the list of records")
        records_path = None
    pagination = _pagination(keys.get("pagination"), problems)
    object_type = keys.get("objecttype", name)
    if problems.errors or id_field is None:
        return ResourceReport(errors=problems.errors, warnings=warnings)
    resource = ResourceConfig(
        name=name,
        url=url,
        id_field=id_field,
        updated=updated,
        created=created,
        filter_by_updated_date=by_updated,
        filter_by_current_date=by_current,
        created_check_tolerance=timedelta(seconds=tolerance),
        page_size=int(page_size),
        poll_delay=timedelta(seconds=poll_delay),
        records_path=records_path,
        newest_first=newest_first,
        pagination=pagination,
        object_type=str(object_type),
        warnings=tuple(warnings),
    )
    return ResourceReport(warnings=warnings, resource=resource)


_PAGINATION: TypeAdapter[Pagination] = TypeAdapter(Pagination)


def _pagination(raw: object, problems: _Problems) -> Pagination | None:
    if raw is None:
        return None
    try:
        return _PAGINATION.validate_python(raw)
    except ValidationError as exc:
        reasons = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors())
        problems.add("pagination", f"expected a pagination style ({reasons})")
        return None


def _url(raw: object, name: str, problems: _Problems, warnings: list[str]) -> str:
    if not isinstance(raw, str) or not raw.strip():
        problems.add("url", "expected the resource URL (relative to the instance base URL)")
        return ""
    try:
        template = compile_url(raw)
    except PlaceholderError as exc:
        problems.add("url", str(exc))
        return raw
    if not template.has_date_placeholder:
        warnings.append(f"resources.{name}.url: no date placeholder: every poll reads all pages")
    return raw


def _canonical_dates(raw: Mapping[Any, Any]) -> dict[str, Any]:
    lowered = {str(k).lower(): v for k, v in raw.items()}
    found: dict[str, Any] = {}
    for canonical, spellings in _DATE_KEYS.items():
        for spelling in spellings:
            if spelling in lowered:
                found[canonical] = lowered[spelling]
                break
    return found


def _date_field(
    dates: Mapping[str, Any], which: str, problems: _Problems, *, required: bool,
    fallback: Mapping[str, Any] | None = None,
) -> DateField | None:
    """The date field `which`; the created date's format and zone default to the updated ones when absent."""
    field_key, format_key, zone_key = f"{which}DateField", f"{which}DateFormat", f"{which}DateTimezone"
    raw_path = dates.get(f"{which}_field")
    if raw_path in (None, ""):
        if required:
            problems.add(f"datesConfiguration.{field_key}", f"expected the field holding the {which} date")
        return None
    path = _path(raw_path, f"datesConfiguration.{field_key}", problems, required=True)
    pattern = dates.get(f"{which}_format", (fallback or {}).get("updated_format"))
    zone = dates.get(f"{which}_zone", (fallback or {}).get("updated_zone"))
    if not isinstance(pattern, str) or not pattern.strip():
        problems.add(f"datesConfiguration.{format_key}", "expected a Java SimpleDateFormat pattern or 'milliseconds'")
        return None
    zone_text = "GMT" if zone in (None, "") else zone  # Open Connectors: an empty zone means GMT
    if not isinstance(zone_text, str):
        problems.add(f"datesConfiguration.{zone_key}", f"expected a time zone name or offset, not {zone!r}")
        return None
    try:
        parse_zone(zone_text)
    except DateFormatError as exc:
        problems.add(f"datesConfiguration.{zone_key}", str(exc))
        return None
    try:
        date_format = DateFormat(pattern, zone_text)
    except DateFormatError as exc:
        problems.add(f"datesConfiguration.{format_key}", str(exc))
        return None
    return DateField(path=path, format=date_format) if path is not None else None


def _path(raw: object, key: str, problems: _Problems, *, required: bool) -> FieldPath | None:
    if raw in (None, ""):
        if required:
            problems.add(key, "expected a field name or path")
        return None
    if not isinstance(raw, str):
        problems.add(key, f"expected a field name or path, not {type(raw).__name__}")
        return None
    try:
        return FieldPath.parse(raw)
    except ValueError as exc:
        problems.add(key, str(exc))
        return None


def _bool(raw: object, key: str, problems: _Problems) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
        return raw.strip().lower() in _TRUE
    problems.add(key, f"expected true or false, not {raw!r}")
    return False


def _number(raw: object, key: str, problems: _Problems, *, minimum: float, integer: bool = False) -> float:
    """A number given as a number or a numeric string (seconds, unless `integer`: a count)."""
    try:
        number = float(raw) if isinstance(raw, int | float | str) and not isinstance(raw, bool) else None
    except ValueError:
        number = None
    if number is None or not math.isfinite(number) or number < minimum or (integer and not number.is_integer()):
        kind = "a whole number" if integer else "a number of seconds"
        problems.add(key, f"expected {kind} >= {minimum:g}, not {raw!r}")
        return minimum
    return number
