"""Hypothesis strategies for hostile input: JSON junk, hostile strings, and valid acts broken one way each."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from tests.support import APPROVER, FINANCE, PLANNER, PM, PR, SPONSOR, day_one
from workflows.messages import (
    ACT_NAMES,
    AcknowledgeIncident,
    AcknowledgePapers,
    Attendee,
    BudgetLine,
    Cancel,
    ChangeItem,
    CheckIn,
    CompleteTask,
    Decide,
    EndItem,
    InviteAttendees,
    InviteSpeaker,
    Itinerary,
    Person,
    Postpone,
    RecordBudget,
    RecordDocument,
    RecordObjectives,
    RecordRisks,
    RecordSurvey,
    ReportIncident,
    ResolveIncident,
    Rsvp,
    SendBack,
    SetAgenda,
    SpeakerItinerary,
    SpeakerReply,
    StartItem,
    SurveyResponse,
)

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "{{7*7}}",
    "{{ self.__init__.__globals__ }}",
    "{% raw %}",
    "{% for x in range(10**9) %}x{% endfor %}",
    "\"'`;--",
    "${jndi:ldap://x}",
    "../../etc/passwd",
    "line\r\nBcc: victim@example.org",
    "\u202eevil\u202c",
    "\x00\x07\x1b[31m",
    "𝕮𝖔𝖓𝖛𝖊𝖓𝖊 会议 🎉",
    "a" * 5000,
]

huge_text = st.integers(min_value=2_000, max_value=300_000).map(lambda n: ("Ω" * n)[:n])
hostile_text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=80), huge_text)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), hostile_text,
)
json_junk = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)),
    max_leaves=12,
)

_T = datetime(2030, 6, 1, 9, 0, tzinfo=UTC)
VALID_ACTS: dict[str, dict[str, Any]] = {
    ACT_NAMES[type(a)]: a.model_dump(mode="json") for a in [
        Decide(key="k", actor=APPROVER, gate="budget_approved", decision="approve"),
        CompleteTask(key="k", actor=PM, task="theme_purpose"),
        RecordBudget(key="k", actor=FINANCE, lines=[BudgetLine(category="venue", planned=Decimal("10"))]),
        InviteSpeaker(key="k", actor=PLANNER, speaker=Person(id="kim", name="Kim"), slot="keynote"),
        SpeakerReply(key="k", actor=PLANNER, speaker_id="kim", response="accepted"),
        SpeakerItinerary(key="k", actor=PLANNER, speaker_id="kim", itinerary=Itinerary(lodging="Hotel")),
        SetAgenda(key="k", actor=PLANNER, items=day_one(_T)[:2]),
        StartItem(key="k", actor=PLANNER, item_id="opening"),
        EndItem(key="k", actor=PLANNER, item_id="opening"),
        ChangeItem(key="k", actor=PLANNER, item_id="opening", change="shorten", minutes=5, reason="late"),
        InviteAttendees(key="k", actor=PR, attendees=[Attendee(id="ann", name="Ann")]),
        Rsvp(key="k", actor=PR, attendee_id="ann", response="yes"),
        CheckIn(key="k", actor=PR, attendee_id="ann"),
        ReportIncident(key="k", actor=PM, incident_id="i1", category="other", severity="low", summary="s"),
        AcknowledgeIncident(key="k", actor=PM, incident_id="i1"),
        ResolveIncident(key="k", actor=PM, incident_id="i1"),
        RecordSurvey(key="k", actor=PR, responses=[SurveyResponse(respondent="ann", content=3, organisation=3,
                                                                   service=3)]),
        SendBack(key="k", actor=PM, to_stage="preparation", reason="r"),
        Postpone(key="k", actor=SPONSOR, new_start=_T, new_end=_T + timedelta(days=1)),
        Cancel(key="k", actor=PM, reason="r"),
        RecordDocument(key="k", actor=PM, doc_type="minutes", version=1, sha256="0" * 64),
        AcknowledgePapers(key="k", actor=PM, person_id="ann"),
        RecordRisks(key="k", actor=PM, revision=1, count=1, high_open=["r1"], high_unowned=[]),
        RecordObjectives(key="k", actor=PM, revision=1, objectives=2, outcomes=3),
    ]
}
MODELS: dict[str, type[BaseModel]] = {name: model for model, name in ACT_NAMES.items()}


def valid_json(model: type[BaseModel], payload: Any) -> bool:
    """Would the workflow's data converter decode `payload` into `model`? (It parses the JSON the client sends.)"""
    try:
        model.model_validate_json(json.dumps(payload))
        return True
    except (ValidationError, ValueError, TypeError):
        return False


@st.composite
def broken(draw: st.DrawFn, base: dict[str, Any]) -> Any:
    """`base` broken one way: a key dropped, an unknown key added, a value (top level or nested) replaced by junk,
    or the whole payload replaced by junk."""
    payload = json.loads(json.dumps(base))
    how = draw(st.sampled_from(["drop", "extra", "replace", "nested", "whole"]))
    if how == "drop" and payload:
        payload.pop(draw(st.sampled_from(sorted(payload))))
    elif how == "extra":
        payload[draw(st.text(min_size=1, max_size=30).filter(lambda k: k not in base))] = draw(json_junk)
    elif how == "replace" and payload:
        payload[draw(st.sampled_from(sorted(payload)))] = draw(json_junk)
    elif how == "nested":
        nested = [k for k, v in payload.items() if isinstance(v, dict | list) and v]
        if nested:
            k = draw(st.sampled_from(sorted(nested)))
            inner = payload[k][0] if isinstance(payload[k], list) else payload[k]
            if isinstance(inner, dict) and inner:
                inner[draw(st.sampled_from(sorted(inner)))] = draw(json_junk)
            else:
                payload[k] = draw(json_junk)
        else:
            payload = draw(json_junk)
    else:
        payload = draw(json_junk)
    return payload


@st.composite
def bad_update(draw: st.DrawFn) -> tuple[str, Any]:
    """An update name and a payload its act model refuses (or a name no handler has)."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text(min_size=1, max_size=40).filter(lambda n: n not in VALID_ACTS)), draw(json_junk)
    name = draw(st.sampled_from(sorted(VALID_ACTS)))
    payload = draw(broken(VALID_ACTS[name]))
    return name, payload
