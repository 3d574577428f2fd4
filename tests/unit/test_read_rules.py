"""The read rule (api.auth.may_read) and the listing's clause for it agree, and the tokens file says grants."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.auth import (
    Principal,
    TokenBook,
    TokenConfigError,
    hash_token,
    may_read,
    reader_keywords,
    sees_contacts,
    visibility_clause,
)
from api.routes.pages import _candidate_query
from definitions import shipped
from tests.support import conference
from workflows import search
from workflows.client import workflow_id
from workflows.messages import Person

REGISTRY = shipped()
CONF = REGISTRY.get("conference")
BOARD = REGISTRY.get("board_meeting")


def who(pid: str, *roles: str, **grants: list[str]) -> Principal:
    return Principal(id=pid, name=pid.title(), roles=list(roles), grants=grants)


def board_meeting(team: dict[str, list[str]]):
    return conference(datetime.now(UTC), event_id="bm-1", kind="board_meeting", owner="sue",
                      team={role: [Person(id=p, name=p.title(), email=f"{p}@x.org") for p in ids]
                            for role, ids in team.items()})


def test_the_team_reads_and_others_do_not():
    event = conference(datetime.now(UTC))
    assert may_read(who("pia", "project_manager"), event, CONF)
    assert may_read(who("fay", "finance"), event, CONF)  # on the team as finance
    assert not may_read(who("max", "finance"), event, CONF)  # holds the role, but the team names fay
    assert not may_read(who("vera", "viewer"), event, CONF)
    assert may_read(who("vik", "viewer", kinds=["conference"]), event, CONF)
    assert not may_read(who("vik", "viewer", kinds=["board_meeting"]), event, CONF)
    assert may_read(who("vee", "viewer", events=[event.id]), event, CONF)
    assert may_read(who("ada", "viewer", kinds=["*"]), event, CONF)


def test_a_role_the_team_leaves_open_reads_as_it_may_act():
    """Nobody named as finance_approver: every finance approver may decide there (choose_role), so may read."""
    event = board_meeting({"secretary": ["sue"], "chair": ["cal"]})
    readers = search.readers(event, BOARD)
    assert {"p:sue", "p:cal", "role:finance_approver", "kind:board_meeting"} <= set(readers)
    assert "role:secretary" not in readers and "role:chair" not in readers  # staffed, and the owner role
    assert may_read(who("finn", "finance_approver"), event, BOARD)
    assert not may_read(who("pia", "project_manager"), event, BOARD)  # no role of a board meeting
    assert readers == sorted(readers)  # the workflow compares it with what it published


def test_the_listing_clause_names_the_same_keywords():
    pia = who("pia", "project_manager", events=["summit-1"])
    assert reader_keywords(pia) == ["p:pia", "role:project_manager"]
    assert visibility_clause(pia, workflow_id) == (
        "(EventReaders IN ('p:pia', 'role:project_manager') OR WorkflowId IN ('event-summit-1'))")
    assert visibility_clause(who("ada", "viewer", kinds=["*"]), workflow_id) is None


def test_the_inbox_query_is_scoped_too():
    query = _candidate_query(who("finn", "finance_approver"), REGISTRY, "tq")
    assert query is not None and query.endswith("AND EventReaders IN ('p:finn', 'role:finance_approver')")


def test_contacts_of_a_confidential_kind_go_to_its_owner_role_only():
    event = board_meeting({"secretary": ["sue", "sid"], "chair": ["cal"], "board_member": ["bea"]})
    assert sees_contacts(who("sue", "secretary"), event, BOARD)
    assert sees_contacts(who("sid", "secretary"), event, BOARD)
    assert not sees_contacts(who("cal", "chair"), event, BOARD)
    assert not sees_contacts(who("bea", "board_member"), event, BOARD)
    assert not sees_contacts(who("ada", "viewer", kinds=["*"]), event, BOARD)
    assert sees_contacts(who("vera", "viewer"), conference(datetime.now(UTC)), CONF)  # not confidential


def test_grants_come_from_the_tokens_file_and_bad_ones_stop_the_start():
    book = TokenBook.parse(
        f'principals: [{{id: ada, name: Ada, roles: [viewer], tokens: ["{hash_token("t")}"], '
        f'grants: {{kinds: [board_meeting, "*"], events: [summit-1]}}}}]', "tokens.yaml")
    ada = book.authenticate("t")
    assert ada.grants.kinds == ["board_meeting", "*"] and ada.grants.events == ["summit-1"]
    for bad in ("{kinds: [Board]}", "{events: ['../x']}", "{teams: [a]}"):
        with pytest.raises(TokenConfigError, match="grants"):
            TokenBook.parse(f'[{{id: ada, name: Ada, roles: [viewer], tokens: ["{hash_token("t")}"], '
                            f'grants: {bad}}}]', "tokens.yaml")


def test_grants_by_organisation_read_that_organisations_events_only():
    """An event owned by Northwind publishes ``org:Northwind``; a principal granted Northwind reads it (and
    the listing's clause asks for that key), one granted Contoso does not; an event without an organisation
    publishes none and is read by nobody through one."""
    from api.auth import Grants, administers
    from api.grants import GrantBook

    owned = conference(datetime.now(UTC), organisation="Northwind")
    plain = conference(datetime.now(UTC), event_id="conf-2")
    assert "org:Northwind" in search.readers(owned, CONF)
    assert not any(k.startswith("org:") for k in search.readers(plain, CONF))
    nw, co = who("nia", "viewer", organisations=["Northwind"]), who("cyd", "viewer", organisations=["Contoso"])
    assert may_read(nw, owned, CONF) and may_read(nw, owned, None)
    assert not may_read(co, owned, CONF) and not may_read(nw, plain, CONF)
    assert "'org:Northwind'" in (visibility_clause(nw, workflow_id) or "")

    book = GrantBook.model_validate({"principals": {"cyd": {"organisations": ["Northwind"]}},
                                     "organisations": {"Fabrikam": {"kinds": ["conference"]},
                                                       "Northwind": {"administers": ["Northwind"]}}})
    assert may_read(book.apply(co), owned, CONF)  # granted by id in the configuration
    member = Principal(id="fran", name="Fran", roles=["viewer"], organisation="Fabrikam")
    assert not may_read(member, owned, CONF) and may_read(book.apply(member), plain, CONF)  # by kind, via her org
    stranger = Principal(id="ian", name="Ian", roles=["viewer"], organisation="Initech")
    assert book.apply(stranger) is stranger and not may_read(stranger, owned, CONF)  # membership alone: nothing
    boss = book.apply(Principal(id="nora", name="Nora", roles=["viewer"], organisation="Northwind"))
    assert administers(boss, "Northwind") and not administers(boss, "Contoso") and not may_read(boss, owned, CONF)
    assert administers(who("op", "operator", administers=["*"]), "Contoso")
    assert book.apply(co).grants == Grants(organisations=["Contoso", "Northwind"])
    with pytest.raises(ValueError):
        GrantBook.model_validate({"principals": {"x": {"organisations": ["a\nb"]}}})
    with pytest.raises(ValueError):
        GrantBook.model_validate({"teams": {}})
