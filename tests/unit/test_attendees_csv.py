"""Attendee CSV import: good rows kept, bad rows listed by line with the reason."""

from __future__ import annotations

from convene.attendees_csv import parse_attendees


def test_bad_rows_are_listed_and_good_rows_imported():
    """A CSV with a bad email, an unknown category, a missing name and a duplicate id keeps the three good rows."""
    text = (
        "id,name,email,category,key_client,needs,needs_note\n"
        "ann,Ann Lee,ann@example.org,partner,yes,accessibility;diet,wheelchair; vegan\n"
        "bob,Bob,not-an-email,expert,,,\n"
        "cy,Cy,cy@example.org,astronaut,,,\n"
        "dee,,dee@example.org,expert,,,\n"
        "\n"
        "eve,Eve,eve@example.org,investor,no,,\n"
        "ann,Ann again,ann2@example.org,partner,,,\n"
        "fay,Fay,,internal,,translation,\n"
    )
    good, bad = parse_attendees(text)
    assert [a.id for a in good] == ["ann", "eve", "fay"]
    assert good[0].key_client and good[0].needs == ["accessibility", "diet"] and good[0].needs_note == "wheelchair; vegan"
    assert good[1].category == "investor" and not good[1].key_client
    assert [e.line for e in bad] == [3, 4, 5, 8]
    assert "email" in bad[0].message
    assert "category" in bad[1].message
    assert "name" in bad[2].message
    assert "appears twice" in bad[3].message
    assert str(bad[0]).startswith("line 3: ")


def test_a_file_without_the_required_header_is_one_clear_error():
    """Without id and name columns nothing is imported and the header is blamed."""
    good, bad = parse_attendees("email\nann@example.org\n")
    assert good == [] and [str(e) for e in bad] == ["line 1: the header must name at least the columns id and name"]


def test_hostile_ids_are_refused():
    """An id that could escape a folder (../) is a bad row, not an attendee."""
    good, bad = parse_attendees("id,name\n../../etc,Mallory\nok,Fine\n")
    assert [a.id for a in good] == ["ok"] and bad[0].line == 2 and "id" in bad[0].message
