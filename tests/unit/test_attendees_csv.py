"""Attendee CSV import: good rows kept, bad rows listed by line with the reason."""

from __future__ import annotations

import codecs

import pytest

from api.attendees_csv import EncodingError, parse_attendees, read_attendees


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


# --- issue 17, items 1-3: files as Excel writes them, read as written, the decision reported -----------------


def _people(done) -> list[tuple[str, str, str | None]]:
    return [(a.id, a.name, a.email) for a in done.attendees]


def test_a_gbk_csv_from_chinese_excel_is_read_as_gb18030():
    """Excel on a Chinese Windows machine writes GBK without a BOM: 王芳 comes back as 王芳."""
    done = read_attendees("id,name,email\r\nwf,王芳,wf@example.org\r\n".encode("gbk"))
    assert _people(done) == [("wf", "王芳", "wf@example.org")] and done.errors == []
    assert (done.encoding, done.encoding_how, done.delimiter) == ("gb18030", "detected", ",")
    assert done.decision == "read as gb18030 (detected), separated by ','"


def test_a_gb18030_file_with_several_people_and_a_rare_character():
    """Another GB18030 file: more names, one of them (𠮷) outside GBK, needing GB18030's four-byte form."""
    done = read_attendees("id,name,email\nlm,李明,lm@example.org\nzj,𠮷田张静,zj@example.org\n".encode("gb18030"))
    assert _people(done) == [("lm", "李明", "lm@example.org"), ("zj", "𠮷田张静", "zj@example.org")]
    assert done.encoding == "gb18030"


def test_a_big5_csv_from_taiwan_or_hong_kong_excel_is_read_as_big5():
    """The same file saved as Big5 (traditional characters) is read as Big5."""
    done = read_attendees("id,name,email\nwf,王芳,wf@example.org\nct,陳大文,ct@example.org\n".encode("big5"))
    assert _people(done) == [("wf", "王芳", "wf@example.org"), ("ct", "陳大文", "ct@example.org")]
    assert (done.encoding, done.encoding_how) == ("big5", "detected")


def test_excel_unicode_text_is_utf16_with_a_bom_and_tabs():
    """Excel's "Unicode text" export: UTF-16 LE with a BOM, tab-separated, CRLF."""
    raw = codecs.BOM_UTF16_LE + "id\tname\temail\r\nwf\t王芳\twf@example.org\r\njm\tJosé Müller\tjm@example.org\r\n".encode(
        "utf-16-le")
    done = read_attendees(raw)
    assert _people(done) == [("wf", "王芳", "wf@example.org"), ("jm", "José Müller", "jm@example.org")]
    assert (done.encoding, done.encoding_how, done.delimiter) == ("utf-16", "BOM", "\t")
    assert done.decision == "read as utf-16 (BOM), separated by tab"


def test_a_utf16_big_endian_file_and_a_utf8_bom_file():
    """Another BOM: UTF-16 BE, and UTF-8 with a BOM (Excel's "CSV UTF-8"), the mark never in the first column."""
    be = read_attendees(codecs.BOM_UTF16_BE + "id\tname\nwf\t王芳\n".encode("utf-16-be"))
    assert _people(be) == [("wf", "王芳", None)] and be.encoding == "utf-16"
    sig = read_attendees(codecs.BOM_UTF8 + "id,name\nwf,王芳\n".encode())
    assert _people(sig) == [("wf", "王芳", None)] and (sig.encoding, sig.encoding_how) == ("utf-8-sig", "BOM")


def test_a_semicolon_separated_file_is_read():
    """European Excel separates with ';' (the decimal comma takes ','); a needs list then comes quoted."""
    done = read_attendees(b'id;name;email;needs\nann;Ann Lee;ann@example.org;"diet;accessibility"\n')
    assert _people(done) == [("ann", "Ann Lee", "ann@example.org")] and done.delimiter == ";"
    assert done.attendees[0].needs == ["diet", "accessibility"]


def test_an_excel_sep_line_names_the_separator_and_lines_keep_their_numbers():
    """A first line ``sep=;`` is Excel's own hint: it is obeyed, not taken for the header; lines keep their numbers."""
    done = read_attendees(b"sep=;\r\nid;name;email\r\nann;Ann Lee;ann@example.org\r\nbob;Bob;not-an-email\r\n")
    assert _people(done) == [("ann", "Ann Lee", "ann@example.org")] and done.delimiter == ";"
    assert done.header_line == 2 and [e.line for e in done.errors] == [4]
    tabs = read_attendees(b"sep=\t\nid\tname\nann\tAnn\n")
    assert _people(tabs) == [("ann", "Ann", None)] and tabs.delimiter == "\t"
    missing = read_attendees(b"sep=;\nemail;phone\n")
    assert [str(e) for e in missing.errors] == ["line 2: the header must name at least the columns id and name"]


def test_a_cp1252_european_file_is_read_as_written():
    """A Latin-1/cp1252 file from a French or German Excel: José Müller, and the euro sign only cp1252 has."""
    done = read_attendees("id;name;email;needs_note\njm;José Müller;jm@example.org;budget 50 €\n".encode("cp1252"))
    assert _people(done) == [("jm", "José Müller", "jm@example.org")]
    assert done.attendees[0].needs_note == "budget 50 €"
    assert (done.encoding, done.encoding_how, done.delimiter) == ("cp1252", "detected", ";")


def test_another_latin1_file_with_nordic_and_french_names():
    """Another Western European file, comma-separated: Zoë Ståhl, François Œuvre."""
    done = read_attendees("id,name\nzs,Zoë Ståhl\nfo,François Œuvre\n".encode("cp1252"))
    assert _people(done) == [("zs", "Zoë Ståhl", None), ("fo", "François Œuvre", None)]


def test_an_encoding_given_is_obeyed_and_a_wrong_one_is_a_clear_error():
    """``encoding=`` wins over the guess (Shift-JIS here); an unknown or wrong encoding is an EncodingError."""
    done = read_attendees("id,name\nyt,山田太郎\n".encode("shift_jis"), encoding="shift_jis")
    assert _people(done) == [("yt", "山田太郎", None)] and (done.encoding, done.encoding_how) == ("shift_jis", "given")
    with pytest.raises(EncodingError, match="unknown encoding"):
        read_attendees(b"id,name\n", encoding="klingon")
    with pytest.raises(EncodingError, match="not utf-8"):
        read_attendees("id,name\nwf,王芳\n".encode("gbk"), encoding="utf-8")


def test_plain_utf8_is_still_utf8():
    """A UTF-8 file (no BOM) is UTF-8 without guessing."""
    done = read_attendees("id,name\nwf,王芳\n".encode())
    assert _people(done) == [("wf", "王芳", None)] and (done.encoding, done.encoding_how) == ("utf-8", "UTF-8")


def test_a_locale_column_takes_any_spelling_of_a_shipped_language():
    """``zh-TW`` and ``ZH-hans`` are stored as zh-Hant and zh-Hans; ``fr`` is a row error naming the choices."""
    done = read_attendees("id,name,locale\na,A,zh-TW\nb,B,ZH-hans\nc,C,fr\n".encode())
    assert [(p.id, p.locale) for p in done.attendees] == [("a", "zh-Hant"), ("b", "zh-Hans")]
    assert [e.line for e in done.errors] == [4] and "zh-Hans" in done.errors[0].message
