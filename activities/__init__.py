"""Activities: everything that touches the world (mail, webhooks, the archive, the roster database).

The workflow calls them by name: ``send_notification``, ``send_thanks``,
``evaluation_report``, ``archive`` and ``release_booking``; and, for events whose
roster is in the database, ``record_audit``, ``sync_event``, ``send_invitations``,
``notify_roster`` and ``import_legacy_record``. Each is a bound method of an
object holding its clients, so tests and the worker inject what they need;
:func:`build_activities` wires them from :class:`~convene.settings.Settings`.
Importing this package connects to nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from activities.archive import ArchiveStore, Archivist, LocalFolderStore, verify
from activities.bookings import Bookings
from activities.links import PersonalLinks
from activities.notifications import Notifier, SmtpConfig
from activities.places import PlacesActivities
from activities.reports import Reporter
from activities.roster import RosterActivities
from activities.thanks import Thanks
from convene.settings import Settings, link_key
from store import Database, Journal, Links, Roster
from store.registration import Places
from store.subscriptions import Subscriptions

__all__ = [
    "ArchiveStore",
    "Archivist",
    "Bookings",
    "LocalFolderStore",
    "Notifier",
    "Reporter",
    "RosterActivities",
    "SmtpConfig",
    "Thanks",
    "build_activities",
    "verify",
]


def build_activities(
    settings: Settings,
    *,
    notifier: Notifier | None = None,
    store: ArchiveStore | None = None,
    database: Database | None = None,
) -> list[Callable[..., Any]]:
    """Every activity the workflow calls, bound to clients made from ``settings``.

    Args:
        settings: SMTP, webhook, archive and database settings.
        notifier: use this notifier instead of one made from the settings (given without a journal,
            it is given the database's).
        store: use this archive store instead of a :class:`LocalFolderStore` at ``settings.archive_root``.
        database: the roster database, migrated (the worker migrates it at start). None makes one from
            ``settings.database_url``: creating it connects to nothing, and the first activity that
            uses it brings its schema up to date.
    """
    if database is None:
        database = Database(settings.database_url, pool_size=settings.database_pool_size)
    roster, journal = Roster(database), Journal(database)
    if notifier is None:
        notifier = Notifier.from_settings(settings, journal=journal)
    elif notifier.journal is None:
        notifier.journal = journal
    if notifier.subscriptions is None:
        notifier.subscriptions = Subscriptions(database)
    if notifier.links is None:
        notifier.links = PersonalLinks(Links(database, link_key(settings)), roster, settings.public_url,
                                       settings.link_days_after_end)
    store = store or LocalFolderStore(settings.archive_root)
    rosters = RosterActivities(roster, journal, notifier, settings.invitations_per_second)
    return [
        notifier.send_notification,
        Thanks(notifier, roster).send_thanks,
        Archivist(store, roster, journal).archive,
        Reporter(store, roster, journal).evaluation_report,
        Bookings(store).release_booking,
        rosters.record_audit,
        rosters.sync_event,
        rosters.send_invitations,
        rosters.notify_roster,
        rosters.import_legacy_record,
        PlacesActivities(Places(database), roster).promote_waitlist,
    ]
