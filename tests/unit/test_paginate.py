"""Pagination decisions, Link header parsing and record extraction, without I/O."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from yarl import URL

from service.polling.paginate import (
    CursorPagination,
    HubPagination,
    LinkPagination,
    NextUrlPagination,
    OffsetPagination,
    PagePagination,
    PageRequest,
    PageShapeError,
    extract_records,
    first_request,
    next_link,
    next_request,
    parse_link_header,
)

URL_ = "https://api.example.com/v1/contacts?where=lastModifiedDate%3E='2026-01-01T00:00:00Z'"


def test_first_request_hub() -> None:
    request = first_request(HubPagination(), URL_, 50)
    assert request.params == {"pageSize": "50"}
    assert request.number == 1
    # The rendered where-clause keeps its encoding; the page size is appended.
    assert str(request.full_url()) == URL_ + "&pageSize=50"


def test_hub_follows_header_token_case_insensitively() -> None:
    style = HubPagination()
    first = first_request(style, URL_, 20)
    second = next_request(style, first, {"Elements-Next-Page-Token": "abc+/=="}, [], 20)
    assert second is not None
    assert second.params == {"pageSize": "20", "nextPage": "abc+/=="}
    assert second.number == 2
    assert URL(str(second.full_url())).query["nextPage"] == "abc+/=="
    assert next_request(style, second, {}, [], 20) is None
    assert next_request(style, second, {"elements-next-page-token": "  "}, [], 20) is None


def test_hub_parameter_names_are_configurable() -> None:
    style = HubPagination(page_size_param="limit", next_page_param="token", next_page_header="X-Next")
    first = first_request(style, "https://h/a", 5)
    second = next_request(style, first, {"x-next": "t2"}, [], 5)
    assert second is not None
    assert second.params == {"limit": "5", "token": "t2"}


def test_page_numbers_stop_on_short_or_empty_page() -> None:
    style = PagePagination(page_param="p", page_size_param="per_page")
    first = first_request(style, "https://h/a", 10)
    assert first.params == {"per_page": "10", "p": "1"}
    second = next_request(style, first, {}, [], 10)
    assert second is not None
    assert second.params == {"per_page": "10", "p": "2"}
    assert next_request(style, second, {}, [], 9) is None
    assert next_request(style, second, {}, [], 0) is None


def test_page_numbers_may_start_at_zero() -> None:
    style = PagePagination(first_page=0)
    first = first_request(style, "https://h/a", 3)
    assert first.params["page"] == "0"
    second = next_request(style, first, {}, [], 3)
    assert second is not None
    assert second.params["page"] == "1"


def test_offset_advances_by_records_read() -> None:
    style = OffsetPagination()
    first = first_request(style, "https://h/a", 25)
    assert first.params == {"limit": "25", "offset": "0"}
    second = next_request(style, first, {}, [], 25)
    assert second is not None
    third = next_request(style, second, {}, [], 25)
    assert third is not None
    assert third.params == {"limit": "25", "offset": "50"}
    assert next_request(style, third, {}, [], 3) is None


def test_cursor_at_nested_path() -> None:
    style = CursorPagination(cursor_path="meta.next", cursor_param="after")
    first = first_request(style, "https://h/a", 10)
    second = next_request(style, first, {}, {"data": [], "meta": {"next": "c2"}}, 10)
    assert second is not None
    assert second.params == {"limit": "10", "after": "c2"}
    # A numeric cursor is sent as its text.
    third = next_request(style, second, {}, {"meta": {"next": 42}}, 10)
    assert third is not None
    assert third.params["after"] == "42"


@pytest.mark.parametrize("body", [{"meta": {"next": None}}, {"meta": {"next": ""}}, {"meta": {}}, [], {"meta": 3}])
def test_cursor_absent_or_empty_ends(body: Any) -> None:
    style = CursorPagination(cursor_path="meta.next")
    assert next_request(style, first_request(style, "https://h/a", 10), {}, body, 10) is None


def test_cursor_of_wrong_type_is_a_shape_error() -> None:
    style = CursorPagination(cursor_path="next_cursor")
    with pytest.raises(PageShapeError, match=r"cursor at 'next_cursor' is a dict"):
        next_request(style, first_request(style, "https://h/a", 10), {}, {"next_cursor": {"a": 1}}, 10)


def test_link_relative_target_resolves_against_the_fetched_url() -> None:
    style = LinkPagination()
    first = first_request(style, "https://h.example/v1/items", 30)
    headers = {"Link": '</v1/items?page=2&per_page=30>; rel="next", </v1/items?page=9>; rel="last"'}
    second = next_request(style, first, headers, [], 30)
    assert second is not None
    assert second.url == "https://h.example/v1/items?page=2&per_page=30"
    assert second.params == {}
    assert next_request(style, second, {"link": '</v1/items?page=1>; rel="prev"'}, [], 30) is None
    assert next_request(style, second, {}, [], 30) is None


def test_link_query_only_target() -> None:
    style = LinkPagination()
    first = first_request(style, "https://h.example/v1/items?q=1", 30)
    second = next_request(style, first, {"link": '<?page=2>; rel=next'}, [], 30)
    assert second is not None
    assert second.url == "https://h.example/v1/items?page=2"


def test_next_url_in_body() -> None:
    style = NextUrlPagination(next_url_path="paging.next")
    first = first_request(style, "https://h.example/v1/items", 10)
    body = {"paging": {"next": "https://h.example/v1/items?after=x"}}
    second = next_request(style, first, {}, body, 10)
    assert second is not None
    assert second.url == "https://h.example/v1/items?after=x"
    relative = next_request(style, second, {}, {"paging": {"next": "items?after=y"}}, 10)
    assert relative is not None
    assert relative.url == "https://h.example/v1/items?after=y"
    assert next_request(style, relative, {}, {"paging": {"next": None}}, 10) is None


def test_full_url_replaces_a_parameter_of_the_same_name() -> None:
    request = PageRequest(url="https://h/a?pageSize=5&x=1", params={"pageSize": "20"})
    assert URL(str(request.full_url())).query.getall("pageSize") == ["20"]
    assert URL(str(request.full_url({"api_key": "k"}))).query["api_key"] == "k"


def test_parse_link_header_handles_quotes_several_links_and_junk() -> None:
    value = (
        '<https://a/x?page=2>; rel="next last"; title="a, b; c=\\"d\\"", '
        "</rel?p=1>;rel=prev;foo, <broken, <z>; REL=Next"
    )
    links = parse_link_header(value)
    assert [link.target for link in links] == ["https://a/x?page=2", "/rel?p=1", "z"]
    assert links[0].rels == {"next", "last"}
    assert links[0].params["title"] == 'a, b; c="d"'
    assert links[1].params["foo"] == ""
    assert links[2].rels == {"next"}


def test_first_occurrence_of_a_parameter_counts() -> None:
    assert parse_link_header('<a>; rel=prev; rel=next')[0].rels == {"prev"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('<https://h/2>; rel="next"', "https://h/2"),
        ('<https://h/1>; rel="prev", <https://h/3>; rel="next"', "https://h/3"),
        ('<https://h/1>; rel="prev"', None),
        ("", None),
        ("garbage without links", None),
        ('<>; rel="next"', None),
    ],
)
def test_next_link(value: str, expected: str | None) -> None:
    assert next_link(value) == expected


@given(st.text(max_size=200))
def test_parse_link_header_never_raises(value: str) -> None:
    for link in parse_link_header(value):
        assert "<" not in link.target
        assert ">" not in link.target


@given(
    st.lists(
        st.tuples(
            st.from_regex(r"https://h/[a-z0-9/?=&]{0,20}", fullmatch=True),
            st.sampled_from(["next", "prev", "last", "first"]),
            st.text(alphabet=st.characters(blacklist_characters='"\\', blacklist_categories=["Cs"]), max_size=15),
        ),
        min_size=1,
        max_size=5,
    ),
)
def test_parse_link_header_round_trips(links: list[tuple[str, str, str]]) -> None:
    value = ", ".join(f'<{target}>; rel="{rel}"; title="{title}"' for target, rel, title in links)
    parsed = parse_link_header(value)
    assert [(p.target, p.params["rel"], p.params["title"]) for p in parsed] == links


def test_records_from_array_body() -> None:
    assert extract_records([{"id": 1}, {"id": 2}], records_path=None, resource="contacts") == [
        {"id": 1},
        {"id": 2},
    ]


def test_records_from_resource_key_and_nested_resource_name() -> None:
    assert extract_records({"contacts": [{"id": 1}], "total": 1}, records_path=None, resource="contacts") == [
        {"id": 1},
    ]
    assert extract_records({"notes": []}, records_path=None, resource="contacts/{id}/notes") == []


def test_records_from_dotted_path() -> None:
    body = {"data": {"items": [{"id": "a"}]}}
    assert extract_records(body, records_path="data.items", resource="contacts") == [{"id": "a"}]
    assert extract_records({"results": [{"r": [{"id": 1}]}]}, records_path="results.0.r", resource="x") == [
        {"id": 1},
    ]


def test_records_missing_names_the_keys() -> None:
    with pytest.raises(PageShapeError, match=r"without a 'contacts' array \(keys: data, total\); set records_path"):
        extract_records({"data": [], "total": 0}, records_path=None, resource="contacts")
    with pytest.raises(PageShapeError, match=r"records path 'data.items' holds a dict, expected an array"):
        extract_records({"data": {"items": {}}}, records_path="data.items", resource="contacts")
    with pytest.raises(PageShapeError, match=r"records path 'data' holds nothing"):
        extract_records({}, records_path="data", resource="contacts")
    with pytest.raises(PageShapeError, match=r"the body is a str"):
        extract_records("oops", records_path=None, resource="contacts")


def test_record_that_is_not_an_object_is_named_by_position() -> None:
    with pytest.raises(PageShapeError, match=r"record at index 2 is a list, expected a JSON object"):
        extract_records([{"id": 1}, {"id": 2}, [3]], records_path=None, resource="contacts")
