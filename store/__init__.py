"""The database: what grows with people and time (roster, survey, deliveries, the whole audit).

SQLite file by default, PostgreSQL by URL (``CONVENE_DATABASE_URL``), the same code:
:class:`Database` connects and migrates, :class:`Roster` holds the attendees and
their acts, :class:`Journal` the audit and the deliveries.
"""

from store.db import DEFAULT_URL, Database
from store.journal import AuditPage, DeliveryPage, Journal
from store.links import Link, LinkRefused, Links
from store.roster import Roster

__all__ = ["DEFAULT_URL", "AuditPage", "Database", "DeliveryPage", "Journal", "Link", "LinkRefused", "Links", "Roster"]
