"""Each act is declared once, by its class: the handler table, the workflow's updates and the API's routes
all follow from :data:`workflows.messages.ACT_NAMES`. These tests fail when one of them misses an act.

The last tests walk the act added to show it (``remove_budget_line``, README "Layout"): its class in
``workflows/messages/acts.py``, its handler in ``workflows/lifecycle/handlers_plan.py``, and this test.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from temporalio import workflow

from definitions import shipped
from definitions.schema import Permissions
from tests.support import FINANCE, PM, VENUE, key
from tests.unit.test_lifecycle import budget, start
from workflows.event import EventLifecycle
from workflows.lifecycle import HANDLERS, ActRefused, allowed_roles
from workflows.messages import (
    ACT_NAMES, Act, Actor, Allowed, BudgetLine, Cancel, MayAsk, RecordBudget, RemoveBudgetLine,
)


def test_every_act_has_a_handler_and_every_handler_an_act() -> None:
    assert set(ACT_NAMES) == set(HANDLERS)


def test_update_names_are_unique_snake_case() -> None:
    names = list(ACT_NAMES.values())
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z][a-z_]*", n) for n in names)


def test_every_permission_names_a_field_of_the_permissions_table() -> None:
    fields = set(Permissions.model_fields)
    for model in ACT_NAMES:
        assert set(model.permission) <= fields, model.__name__


def test_the_workflow_has_one_update_per_act_with_a_validator() -> None:
    updates = workflow._Definition.must_from_class(EventLifecycle).updates  # what the worker registers
    assert set(ACT_NAMES.values()) <= set(updates)
    for model, name in ACT_NAMES.items():
        assert updates[name].arg_types == [model]
        assert updates[name].validator is not None, name


def test_an_act_class_without_an_update_is_no_act() -> None:
    """A base class shared by acts (no ``update``) is not registered as an act."""

    class _Shared(Act):
        pass

    assert _Shared not in ACT_NAMES


@pytest.mark.parametrize("kind", sorted(shipped().kinds()))
def test_allowed_roles_are_roles_of_the_definition(kind: str) -> None:
    """Whatever a definition's permissions say, an act is allowed to roles it declares (or to nobody)."""
    definition = shipped().get(kind)
    actor = Actor(id="x", role=definition.owner_role)
    for model in (RecordBudget, RemoveBudgetLine):
        act = model.model_construct(key="k", actor=actor, reason=None)
        assert set(allowed_roles(definition, act)) <= definition.role_ids()


def test_remove_budget_line_removes_it_and_says_the_new_total() -> None:
    lc = start()
    budget(lc, venue="40000", catering="25000", contingency="5000")
    result = lc.apply(RemoveBudgetLine(key=key("rm"), actor=FINANCE, category="catering"))
    assert set(lc.record.budget) == {"venue", "contingency"}
    assert result.message == "budget line removed (catering); planned total 45,000.00"
    assert lc.record.audit[-1].act == "remove_budget_line"


def test_remove_budget_line_refuses_a_line_that_is_not_there_and_changes_nothing() -> None:
    lc = start()
    budget(lc, venue="40000")
    before = lc.record.model_copy(deep=True)
    with pytest.raises(ActRefused) as refused:
        lc.apply(RemoveBudgetLine(key=key("rm"), actor=FINANCE, category="catering"))
    assert refused.value.kind == "invalid"
    assert refused.value.message == "the budget has no catering line"
    assert lc.record == before


def test_remove_budget_line_takes_the_roles_that_record_the_budget() -> None:
    lc = start()
    lc.apply(RecordBudget(key=key("b"), actor=PM, lines=[BudgetLine(category="venue", planned=Decimal(1))]))
    with pytest.raises(ActRefused) as refused:
        lc.apply(RemoveBudgetLine(key=key("rm"), actor=VENUE, category="venue"))
    assert refused.value.kind == "forbidden"
    assert "venue_coordinator" in refused.value.message and "remove budget line" in refused.value.message
    assert "venue" in lc.record.budget


# --- what a person may do: the event answers by the rule its acts are authorised by (query ``may``) ---


def test_may_answers_each_gate_task_and_act_as_the_role_the_act_would_take() -> None:
    lc = start()
    pm = lc.may(MayAsk(person_id="pia", roles=["project_manager"]))
    assert pm.gates["budget_approved"].approve is None  # the finance approver's decision
    assert pm.gates["budget_approved"].waive == "project_manager"
    assert pm.tasks["theme_purpose"] == "project_manager"
    assert pm.acts["record_budget"] == pm.acts["remove_budget_line"] == "project_manager"
    assert pm.send_back_to == [] and pm.cancellable  # nothing earlier than the first stage
    finn = lc.may(MayAsk(person_id="finn", roles=["finance_approver"]))
    assert finn.gates["budget_approved"].approve == "finance_approver" and finn.acts["record_budget"] is None
    # holding a role the event's team gives to someone else is not enough (the one rule: role_for)
    impostor = lc.may(MayAsk(person_id="mallory", roles=["finance_approver"]))
    assert impostor.gates["budget_approved"].approve is None


def test_may_follows_the_machine_send_back_until_the_doors_open_and_nothing_once_over() -> None:
    from tests.unit.test_lifecycle import on_site, plan, prepare

    lc = start()
    prepare(lc)
    plan(lc)
    assert lc.record.stage == "promotion"
    pm = lc.may(MayAsk(person_id="pia", roles=["project_manager"]))
    assert pm.send_back_to == ["preparation", "planning"] and pm.cancellable
    view = lc.view()
    assert not view.on_site and not view.doors_open
    lc = on_site()
    pm = lc.may(MayAsk(person_id="pia", roles=["project_manager"]))
    assert pm.send_back_to == [] and pm.cancellable  # the day can still be called off, not sent back
    view = lc.view()
    assert view.on_site and view.doors_open
    lc.apply(Cancel(key=key("c"), actor=PM, reason="storm"))
    assert lc.may(MayAsk(person_id="pia", roles=["project_manager"])) == Allowed()
