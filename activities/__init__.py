"""Activities: everything that touches the world (mail, webhooks, the archive).

The workflow calls them by name: ``send_notification``, ``send_thanks``,
``evaluation_report``, ``archive`` and ``release_booking``. Each is a bound
method of an object holding its clients, so tests and the worker inject what
they need; :func:`build_activities` wires them from :class:`~convene.settings.Settings`.
Importing this package connects to nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from activities.archive import ArchiveStore, Archivist, LocalFolderStore, verify
from activities.bookings import Bookings
from activities.notifications import Notifier, SmtpConfig
from activities.reports import Reporter
from activities.thanks import Thanks
from convene.settings import Settings

__all__ = [
    "ArchiveStore",
    "Archivist",
    "Bookings",
    "LocalFolderStore",
    "Notifier",
    "Reporter",
    "SmtpConfig",
    "Thanks",
    "build_activities",
    "verify",
]


def build_activities(
    settings: Settings, *, notifier: Notifier | None = None, store: ArchiveStore | None = None
) -> list[Callable[..., Any]]:
    """Every activity the workflow calls, bound to clients made from ``settings``.

    Args:
        settings: SMTP, webhook and archive settings.
        notifier: use this notifier instead of one made from the settings.
        store: use this archive store instead of a :class:`LocalFolderStore` at ``settings.archive_root``.
    """
    notifier = notifier or Notifier.from_settings(settings)
    store = store or LocalFolderStore(settings.archive_root)
    return [
        notifier.send_notification,
        Thanks(notifier).send_thanks,
        Archivist(store).archive,
        Reporter(store).evaluation_report,
        Bookings(store).release_booking,
    ]
