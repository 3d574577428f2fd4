"""The chat channel: a message to a team's room in Feishu/Lark, DingTalk, WeCom, Slack, Teams... through apprise.

A definition names ``chat`` among a notification's channels, as it names ``email``; the rooms are
not in the definition but in the settings (``CONVENE_CHAT_URLS``, a JSON object of name -> apprise
URL), because a room's URL is a credential: anyone holding it can post there. A message for role
``R`` of event ``E`` goes to the first room named, in this order:

``event:E:R`` (that role on that event), ``event:E`` (the event's team room), ``role:R``
(that role on every event), ``*`` (everything else).

Each value is one apprise URL or several separated by spaces: ``feishu://``, ``lark://``,
``dingtalk://``, ``wecombot://``, ``slack://``, ``workflows://`` (Microsoft Teams, through a
Power Automate workflow; Teams' old connectors are retired), ``json://`` / ``form://`` (any
HTTP endpoint), and whatever else apprise knows. Every URL is parsed by apprise when the settings
are read, so a mistyped one stops the worker at start, naming the entry (never the URL).

Records and logs name the room (``chat:role:finance``), never its URL. ``json://`` and ``form://``
requests carry the notification's key as ``Idempotency-Key`` (percent-encoded as for webhooks)
so the receiver can drop a repeat; the vendors' APIs take no such key, so a send retried after a
lost answer may post twice there (delivery is at least once, as for email). apprise answers only
"delivered or not": a room that did not take the message is retried by the activity's policy.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass

import apprise
from pydantic import SecretStr

KEYED_SCHEMES = ("json", "jsons", "form", "forms")
"""apprise's generic HTTP schemes, which take extra headers as ``+Name=value`` query arguments."""

# apprise logs the URLs it fails to reach, credentials included: its own log stays off, ours names the room.
logging.getLogger("apprise").setLevel(logging.CRITICAL + 1)


class ChatConfigError(ValueError):
    """A chat room's URL cannot be used; raised when the settings are read, naming the entry only."""


@dataclass(frozen=True)
class Room:
    name: str
    """The entry's name, as records and logs show it (``role:finance``)."""
    urls: tuple[str, ...]

    def __repr__(self) -> str:  # never the URLs
        return f"Room({self.name!r})"


def _with_key(url: str, header_value: str) -> str:
    """`url` with ``Idempotency-Key`` as an extra header, for the schemes that take one."""
    if url.split("://", 1)[0].lower() not in KEYED_SCHEMES:
        return url
    parts = urllib.parse.urlsplit(url)
    extra = "+Idempotency-Key=" + urllib.parse.quote(header_value, safe="")
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urllib.parse.urlunsplit(parts._replace(query=query))


class ChatRooms:
    """Rooms by name (see the module's lookup order), their URLs checked by apprise.

    Raises:
        ChatConfigError: a name that is not ``*``, ``role:<role>``, ``event:<id>`` or ``event:<id>:<role>``,
            or a URL apprise does not accept.
    """

    def __init__(self, urls: Mapping[str, str | SecretStr] | None = None) -> None:
        self._rooms: dict[str, Room] = {}
        for name, value in (urls or {}).items():
            text = value.get_secret_value() if isinstance(value, SecretStr) else value
            if not (name == "*" or name.startswith(("role:", "event:"))):
                raise ChatConfigError(f"chat room {name!r}: name it '*', 'role:<role>', 'event:<event id>' or "
                                      "'event:<event id>:<role>'")
            found = tuple(text.split())
            if not found:
                raise ChatConfigError(f"chat room {name!r} has no URL")
            for n, url in enumerate(found, 1):
                if apprise.Apprise.instantiate(url) is None:
                    raise ChatConfigError(f"chat room {name!r}: URL {n} is not one apprise can use (an unknown "
                                          "scheme, or a part missing)")
            self._rooms[name] = Room(name, found)

    def __len__(self) -> int:
        return len(self._rooms)

    def room(self, event_id: str, role: str) -> Room | None:
        """The room a message for `role` of `event_id` goes to, or None."""
        for name in (f"event:{event_id}:{role}", f"event:{event_id}", f"role:{role}", "*"):
            if name in self._rooms:
                return self._rooms[name]
        return None


async def post(room: Room, title: str, body: str, header_key: str) -> bool:
    """Post `title` and `body` to every URL of `room`; True when every one took it.

    `header_key` is sent as ``Idempotency-Key`` to the generic HTTP schemes.
    """
    sender = apprise.Apprise()
    for url in room.urls:
        if not sender.add(_with_key(url, header_key)):
            return False
    return bool(await sender.async_notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT))
