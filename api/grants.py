"""Grants from configuration: what a principal, or everyone of an organisation, may read besides their teams.

``CONVENE_GRANTS`` is JSON::

    {"principals":    {"ada": {"kinds": ["board_meeting"], "organisations": ["Northwind"]}},
     "organisations": {"Northwind": {"organisations": ["Northwind"], "administers": []},
                       "Contoso":   {"kinds": ["conference"]}}}

A principal's grants are those of the tokens file, plus ``principals[<their id>]``, plus
``organisations[<their organisation>]`` (the OIDC claim, or the tokens file's ``organisation``): so an
identity provider's people get grants without a tokens-file entry. Each entry is a
:class:`api.auth.Grants` (``events``, ``kinds``, ``organisations``, ``administers``). Nobody is granted
their own organisation's events unless configured so: being in an organisation alone grants nothing.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.auth import Grants, OrganisationName, Principal
from workflows.messages import SafeId


class GrantBook(BaseModel):
    """``CONVENE_GRANTS``: grants by principal id and by organisation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    principals: dict[SafeId, Grants] = Field(default_factory=dict)
    organisations: dict[OrganisationName, Grants] = Field(default_factory=dict)

    def apply(self, principal: Principal) -> Principal:
        """`principal` with the configured grants added to their own (the same principal when none apply)."""
        extra = [g for g in (self.principals.get(principal.id),
                             self.organisations.get(principal.organisation) if principal.organisation else None)
                 if g is not None]
        if not extra:
            return principal
        grants = principal.grants
        for g in extra:
            grants = grants.merged(g)
        return principal.model_copy(update={"grants": grants})
