"""Who is calling, and which role they act as.

Bearer tokens map to principals ``{id, name, roles}``. Only SHA-256 hashes of the
tokens are kept at rest (``sha256:<hex>`` in the tokens file), and a presented
token is hashed and compared with :func:`hmac.compare_digest`. A tokens file::

    principals:
      - id: finn
        name: Finn Approver
        roles: [finance_approver]
        tokens: ["sha256:3f0a...e1"]      # python -m api.auth hash <token>
      - id: ada
        name: Ada Auditor
        roles: [viewer]
        grants: {kinds: [conference], events: [summit-2027]}   # what she may read besides her teams
      - id: ida
        name: Ida Admin
        roles: [organisation_admin]
        organisation: Northwind                             # the events she starts are Northwind's
        grants: {organisations: [Northwind], administers: [Northwind]}   # reads them; manages its webhooks

Reading is scoped (:func:`may_read`): an event is visible to its team (the owner and everyone named on
it, in any role; for a role it names nobody for, every holder of that role, who may act as it there),
to principals granted it by id, by kind (``kinds: ["*"]``: every event) or by the organisation that owns
it (``organisations``; grants may also come from ``CONVENE_GRANTS``, :mod:`api.grants`), and to nobody else. A
confidential kind's contact details are shown only to those who need them (:func:`sees_contacts`).

This is the first line of authorisation: it refuses an act when the principal
holds no role the definition allows for it. The workflow's validator checks
again (the second line), so the two can never disagree in the caller's favour.

``python -m api.auth hash <token>`` prints the line to store; ``python -m api.auth new``
makes a fresh token and its hash.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from definitions.schema import Definition
from workflows import lifecycle, search
from workflows.messages import Act, EventDetails, SafeId
from workflows.refusals import ActRefused

HASH_PREFIX = "sha256:"
VIEWER = "viewer"
"""The read-only role: it lets a principal read the events they may see (:func:`may_read`) and do nothing."""
ALL_KINDS = "*"
"""``grants: {kinds: ["*"]}``: every event of every kind (an auditor)."""


def hash_token(token: str) -> str:
    """The form a token is stored in: ``sha256:<hex digest>``."""
    return HASH_PREFIX + hashlib.sha256(token.encode()).hexdigest()


# --- errors (mapped to 401/403 in api.errors) -----------------------------------------------


class AuthError(Exception):
    """The caller may not do this; ``detail`` is safe to show them."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


class Unauthenticated(AuthError):
    """No token, or one that matches nobody (401)."""

    def __init__(self, detail: str, *, invalid_token: bool = False) -> None:
        super().__init__(detail)
        self.invalid_token = invalid_token


class NotPermitted(AuthError):
    """A known principal without a role allowed for the act (403)."""


class TokenConfigError(ValueError):
    """The tokens file or variable cannot be used; raised at start-up, never per request."""


# --- principals and the token book -----------------------------------------------------------


OrganisationName = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]
"""An organisation as the identity provider's claim names it (``EventDetails.organisation``)."""


class Grants(BaseModel):
    """Events a principal may read beyond the teams they are on, and the organisations whose webhook
    subscriptions they manage (configuration, never asked for by callers)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    events: list[SafeId] = Field(default_factory=list, max_length=1000, description="Event ids.")
    kinds: list[Annotated[str, Field(pattern=r"^([a-z][a-z0-9_]{0,63}|\*)$")]] = Field(
        default_factory=list, max_length=100, description='Every event of these kinds; "*" for every kind.')
    organisations: list[OrganisationName] = Field(
        default_factory=list, max_length=100, description="Every event these organisations own.")
    administers: list[OrganisationName] = Field(
        default_factory=list, max_length=100,
        description='Organisations whose webhook subscriptions they manage and whose events they may start; '
                    '"*" for every organisation (an operator).')

    def merged(self, other: Grants) -> Grants:
        """Both grants together (each list without repeats, in order)."""
        def both(a: list[str], b: list[str]) -> list[str]:
            return list(dict.fromkeys([*a, *b]))
        return Grants(events=both(self.events, other.events), kinds=both(self.kinds, other.kinds),
                      organisations=both(self.organisations, other.organisations),
                      administers=both(self.administers, other.administers))


class Principal(BaseModel):
    """An authenticated caller. Acts are done as ``Actor(id=principal.id, role=<a role they hold>)``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: SafeId
    name: str = Field(min_length=1, max_length=200)
    roles: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]] = Field(min_length=1)
    grants: Grants = Field(default_factory=Grants)
    organisation: str | None = Field(default=None, max_length=200,
                                     description="From the identity provider's claim when signed in by OIDC, "
                                     "or the tokens file: the organisation of the events they start.")

    @staticmethod
    def role_ok(role: str) -> bool:
        return re.fullmatch(r"[a-z][a-z0-9_]{0,63}", role) is not None

    @staticmethod
    def id_ok(pid: str) -> bool:
        return re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}", pid) is not None

    @property
    def read_only(self) -> bool:
        return all(role == VIEWER for role in self.roles)

    def holds(self, role: str) -> bool:
        return role in self.roles


class _Entry(Principal):
    tokens: list[str] = Field(min_length=1, repr=False)

    @model_validator(mode="before")
    @classmethod
    def _one_or_many(cls, data: Any) -> Any:
        if isinstance(data, dict) and "token" in data:
            data = dict(data)
            single = data.pop("token")
            data["tokens"] = [*data.get("tokens", []), single]
        return data

    @field_validator("tokens")
    @classmethod
    def _hashed(cls, tokens: list[str]) -> list[str]:
        for t in tokens:
            digest = t[len(HASH_PREFIX):] if t.startswith(HASH_PREFIX) else ""
            if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                # Never echo the value: it may be a plaintext token pasted by mistake.
                raise ValueError("tokens are stored as 'sha256:<64 lowercase hex>' (python -m api.auth hash <token>)")
        return [t[len(HASH_PREFIX):] for t in tokens]

    def principal(self) -> Principal:
        return Principal(id=self.id, name=self.name, roles=self.roles, grants=self.grants,
                         organisation=self.organisation)


class _TokenFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    principals: list[_Entry] = Field(default_factory=list)


def _entries(text: str, source: str) -> list[_Entry]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        raise TokenConfigError(f"{source}: not valid YAML or JSON") from None
    if isinstance(data, list):
        data = {"principals": data}
    try:
        return _TokenFile.model_validate(data).principals
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_input=False))
        raise TokenConfigError(f"{source}: {where}") from None


class TokenBook:
    """Principals by token hash."""

    def __init__(self, entries: Iterable[_Entry] = ()) -> None:
        self._entries: list[tuple[str, Principal]] = []
        ids: set[str] = set()
        for entry in entries:
            if entry.id in ids:
                raise TokenConfigError(f"principal {entry.id!r} is listed twice")
            ids.add(entry.id)
            self._entries += [(digest, entry.principal()) for digest in entry.tokens]
        digests = [d for d, _ in self._entries]
        if len(set(digests)) != len(digests):
            raise TokenConfigError("the same token is given to more than one principal")

    @classmethod
    def parse(cls, text: str, source: str) -> TokenBook:
        """Read the file format (YAML or JSON): ``{principals: [...]}`` or the list alone."""
        return cls(_entries(text, source))

    @classmethod
    def from_settings(cls, tokens_file: Path | None, tokens_json: str | None) -> TokenBook:
        """The principals of the tokens file and of ``CONVENE_TOKENS``, together."""
        entries: list[_Entry] = []
        if tokens_file is not None:
            try:
                text = tokens_file.read_text(encoding="utf-8")
            except OSError as exc:
                raise TokenConfigError(f"cannot read tokens file {tokens_file}: {exc.strerror or exc}") from None
            entries += _entries(text, str(tokens_file))
        if tokens_json:
            try:
                json.loads(tokens_json)
            except ValueError:
                raise TokenConfigError("CONVENE_TOKENS is not valid JSON") from None
            entries += _entries(tokens_json, "CONVENE_TOKENS")
        return cls(entries)

    def __len__(self) -> int:
        return len({p.id for _, p in self._entries})

    def authenticate(self, token: str) -> Principal:
        """The principal holding `token`.

        Raises:
            Unauthenticated: no principal holds it.
        """
        presented = hashlib.sha256(token.encode()).hexdigest()
        found: Principal | None = None
        for digest, principal in self._entries:  # no early exit: the time does not depend on the position
            if hmac.compare_digest(digest, presented):
                found = principal
        if found is None:
            raise Unauthenticated("the bearer token is not valid", invalid_token=True)
        return found


# --- which role an act is done as ------------------------------------------------------------


def on_team(principal: Principal, event: EventDetails) -> bool:
    """`principal` is the event's owner or one of the people of its team (any role)."""
    return principal.id == event.owner or any(principal.id == p.id for people in event.team.values() for p in people)


def choose_role(
    principal: Principal, definition: Definition, event: EventDetails, act: Act, as_role: str | None = None
) -> str:
    """The role `principal` does `act` as: `as_role` if given, else the first allowed role they hold.

    Raises:
        NotPermitted: they hold no role allowed for the act on this event.
        ActRefused: the act names a gate or task the definition does not have.
    """
    if principal.read_only or not any(principal.holds(r) for r in definition.role_ids()):
        raise NotPermitted(f"{principal.id} holds no role of a {definition.kind}; reading is all they may do")
    try:
        return lifecycle.role_for(definition, event, principal.id, set(principal.roles), act.roles(definition),
                                  act.update.replace("_", " "), as_role)
    except ActRefused as refused:
        if refused.kind != "forbidden":
            raise
        raise NotPermitted(refused.message) from None


def may_start(principal: Principal, definition: Definition, extra_roles: Iterable[str] = ()) -> None:
    """Starting an event of a kind takes that kind's owner role (or one of the configured creator roles).

    Raises:
        NotPermitted: otherwise.
    """
    allowed = [definition.owner_role, *extra_roles]
    if principal.read_only or not any(principal.holds(r) for r in allowed):
        raise NotPermitted(f"starting a {definition.kind} needs one of: {', '.join(allowed)}")


# --- who may read an event ------------------------------------------------------------------------


class NotVisible(AuthError):
    """The event is not one the caller may read: answered 404, as for an event that does not exist, so
    nobody learns of another team's event by asking for it."""


def reader_keywords(principal: Principal) -> list[str]:
    """The ``EventReaders`` keywords that let `principal` read an event (:func:`workflows.search.readers`)."""
    return sorted({f"p:{principal.id}"} | {f"role:{r}" for r in principal.roles}
                  | {f"kind:{k}" for k in principal.grants.kinds}
                  | {f"org:{o}" for o in principal.grants.organisations})


def reads_everything(principal: Principal) -> bool:
    return ALL_KINDS in principal.grants.kinds


def may_read(principal: Principal, event: EventDetails, definition: Definition | None) -> bool:
    """Whether `principal` may read `event`: on its team in any role, granted it by id, kind or owning
    organisation, or an auditor (``kinds: ["*"]``). The same rule the listing query applies (:func:`visibility_clause`).

    `definition` None (a kind no longer loaded here): only the team and the grants count.
    """
    if reads_everything(principal) or event.id in principal.grants.events:
        return True
    if definition is None:
        mine = {f"p:{event.owner}"} | {f"p:{p.id}" for members in event.team.values() for p in members} \
            | {f"kind:{event.kind}"} | ({f"org:{event.organisation}"} if event.organisation else set())
        return bool(mine & set(reader_keywords(principal)))
    return bool(set(search.readers(event, definition)) & set(reader_keywords(principal)))


def administers(principal: Principal, organisation: str) -> bool:
    """Whether `principal` manages `organisation`'s webhook subscriptions (and may start its events):
    granted ``administers`` it, or every organisation (``"*"``)."""
    return organisation in principal.grants.administers or ALL_KINDS in principal.grants.administers


def check_read(principal: Principal, event: EventDetails, definition: Definition | None) -> None:
    """:func:`may_read`, or raise.

    Raises:
        NotVisible: not theirs to read (404, like an unknown event).
    """
    if not may_read(principal, event, definition):
        raise NotVisible("no such event")


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def visibility_clause(principal: Principal, workflow_id: Any) -> str | None:
    """The part of a visibility query that keeps only the events `principal` may read (None: all of them).

    ``(EventReaders IN (<their keywords>) OR WorkflowId IN (<events granted by id>))``; `workflow_id`
    maps an event id to its workflow id. Events started before ``EventReaders`` existed have none until
    their next step (stage change, act, deadline): until then they are listed only to auditors.
    """
    if reads_everything(principal):
        return None
    clause = f"{search.READERS.name} IN ({', '.join(map(_quote, reader_keywords(principal)))})"
    if principal.grants.events:
        ids = ", ".join(_quote(workflow_id(e)) for e in principal.grants.events)
        clause = f"({clause} OR WorkflowId IN ({ids}))"
    return clause


def sees_contacts(principal: Principal, event: EventDetails, definition: Definition | None) -> bool:
    """Whether `principal` sees the contact details (email addresses, webhook URLs) of `event`'s people.

    On a confidential kind only those who send to those people need them: the event's owner and the
    people the team names in the kind's owner role (the secretary of a board meeting). Everyone else
    reading it (other roles, viewers, principals granted it) sees them withheld. On other kinds every
    reader sees them, except that read-only principals see webhook URLs without credentials, query or
    fragment (:mod:`api.visibility`).
    """
    if definition is None or not definition.confidential:
        return True
    owners = {event.owner} | {p.id for p in event.team.get(definition.owner_role, [])}
    return principal.id in owners and not principal.read_only


def may_export(principal: Principal, event: EventDetails, definition: Definition | None) -> None:
    """Taking an event's people out in bulk (a spreadsheet export) is reading: :func:`may_read`. What the
    export then shows follows :func:`sees_contacts` (:mod:`api.roster_exports`).

    Raises:
        NotVisible: not theirs to read (404).
    """
    check_read(principal, event, definition)


# --- python -m api.auth ----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """``hash <token>`` (``-`` reads it from stdin) or ``new``."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["hash"] and len(args) == 2:
        token = sys.stdin.readline().strip() if args[1] == "-" else args[1]
        if not token:
            print("empty token", file=sys.stderr)
            return 2
        print(hash_token(token))
        return 0
    if args == ["new"]:
        token = secrets.token_urlsafe(32)
        print(f"token: {token}\nstore: {hash_token(token)}")
        return 0
    print("usage: python -m api.auth hash <token|->  |  python -m api.auth new", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
