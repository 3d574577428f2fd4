"""The kinds issue 20 adds (industry seminar, business negotiation, annual gala, exhibition, project discussion,
annual meeting) walk to closed on the time-skipping server, each through its own stages, gates and engine tasks."""

from __future__ import annotations

import pytest
from temporalio.testing import WorkflowEnvironment

from definitions import shipped
from tests.autopilot import walk_to_closed
from tests.support import RecordingActivities, settings
from worker import build_worker

# kind -> (the stages it walks, gates only this kind has, who is told on entering planning)
NEW_KINDS = {
    "industry_seminar": (["preparation", "planning", "promotion", "on_site", "post_event"],
                         {"breakouts_ready", "breakouts_assigned"}, {"activity_planner", "pr_communications"}),
    "business_negotiation": (["preparation", "planning", "readiness", "on_site", "post_event"],
                             {"mandate_approved", "nda_in_place", "delegation_invited"},
                             {"lead_negotiator", "analyst"}),
    "annual_gala": (["preparation", "planning", "promotion", "on_site", "post_event"],
                    {"performers_and_awards", "seating_done", "host_confirmed"},
                    {"programme_director", "guest_relations"}),
    "exhibition": (["preparation", "planning", "promotion", "on_site", "post_event"],
                   {"floor_plan_approved", "exhibitors_confirmed", "exhibitors_ready", "show_over"},
                   {"exhibitor_relations", "activity_planner", "pr_communications"}),
    "project_discussion": (["preparation", "planning", "readiness", "on_site", "post_event"],
                           {"pre_read_ready", "participants_invited", "minutes_circulated"},
                           {"project_lead", "note_taker"}),
    "annual_meeting": (["preparation", "planning", "readiness", "on_site", "post_event"],
                       {"programme_approved", "presenters_confirmed", "staff_invited"},
                       {"project_manager", "activity_planner", "internal_comms"}),
}


@pytest.mark.parametrize("kind", sorted(NEW_KINDS))
async def test_a_new_kind_walks_to_closed_through_its_own_gates(
    ts_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities, kind: str
):
    """The event passes every stage of the kind's path, every gate of its own passes or is approved on the way,
    the engine runs the kind's archive, report and thanks, and nothing is left at risk."""
    definition = shipped().get(kind)
    path, own_gates, planners = NEW_KINDS[kind]
    assert definition.path() == path
    async with build_worker(ts_env.client, settings(task_queue), activities=stand_ins.all()):
        handle = await walk_to_closed(ts_env, definition, f"new-{kind}", task_queue)
        final = await handle.result()
    assert final.status == "closed" and final.stages == path
    entered = [a.summary.split(" -> ")[1] for a in final.audit if a.act == "advance"]
    assert entered == path[1:]
    assert own_gates <= {g.id for s in definition.stages for g in s.gates}
    approved = {a.summary for a in final.audit if a.act == "decide"}
    assert approved == {f"{g.title}: approved" for s in definition.stages for g in s.gates if g.approval}
    assert sorted(set(stand_ins.dossier_calls)) == ["archive", "evaluation_report", "send_thanks"]
    told = {n.recipient.role for n in stand_ins.notifications if n.kind == "stage_entered"
            and n.context.get("stage") == "planning"}
    assert told == planners
    assert final.escalation_level == 0 and not final.at_risk
