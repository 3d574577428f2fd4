"""Tokens at rest are SHA-256 hashes; the tokens file and variable; ``python -m api.auth``."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest

from api import ApiSettings, create_app
from api.auth import TokenBook, TokenConfigError, Unauthenticated, hash_token, main

FILE = """
principals:
  - id: finn
    name: Finn Approver
    roles: [finance_approver]
    tokens: ["{finn}"]
  - id: vic
    name: Vic Viewer
    roles: [viewer]
    token: "{vic}"
"""


def test_hash_token_is_prefixed_sha256():
    """The stored form is 'sha256:' and the hex digest."""
    assert hash_token("abc") == "sha256:" + hashlib.sha256(b"abc").hexdigest()


def test_a_yaml_file_maps_tokens_to_principals():
    """A presented token finds its principal by hash; any other token is refused."""
    book = TokenBook.parse(FILE.format(finn=hash_token("t-finn"), vic=hash_token("t-vic")), "tokens.yaml")
    assert book.authenticate("t-finn").roles == ["finance_approver"]
    assert book.authenticate("t-vic").read_only
    with pytest.raises(Unauthenticated):
        book.authenticate("t-nobody")


def test_plaintext_tokens_are_refused_without_being_echoed():
    """A token stored in clear is a configuration error whose message does not repeat it."""
    with pytest.raises(TokenConfigError) as err:
        TokenBook.parse(FILE.format(finn="my-plain-secret", vic=hash_token("v")), "tokens.yaml")
    assert "my-plain-secret" not in str(err.value) and "sha256" in str(err.value)


def test_duplicates_are_refused():
    """One principal listed twice, or one token given to two principals, is refused."""
    same = hash_token("x")
    with pytest.raises(TokenConfigError):
        TokenBook.parse(FILE.format(finn=same, vic=same), "tokens.yaml")
    entry = {"id": "a", "name": "A", "roles": ["viewer"], "tokens": [hash_token("1")]}
    with pytest.raises(TokenConfigError):
        TokenBook.parse(json.dumps([entry, entry | {"tokens": [hash_token("2")]}]), "env")


def test_file_and_variable_are_read_together(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """CONVENE_TOKENS_FILE and CONVENE_TOKENS both add principals to the app."""
    path = tmp_path / "tokens.yaml"
    path.write_text(FILE.format(finn=hash_token("t-finn"), vic=hash_token("t-vic")))
    monkeypatch.setenv("CONVENE_TOKENS_FILE", str(path))
    monkeypatch.setenv("CONVENE_TOKENS", json.dumps(
        [{"id": "sam", "name": "Sam", "roles": ["sponsor"], "tokens": [hash_token("t-sam")]}]))
    settings = ApiSettings()
    book = TokenBook.from_settings(settings.tokens_file, settings.tokens.get_secret_value())
    assert len(book) == 3 and book.authenticate("t-sam").id == "sam"
    assert create_app(settings).state.convene.tokens.authenticate("t-finn").id == "finn"


def test_cli_hashes_a_token(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """`python -m api.auth hash <token>` (or `-` for stdin) prints the line to store."""
    assert main(["hash", "abc"]) == 0
    assert capsys.readouterr().out.strip() == hash_token("abc")
    monkeypatch.setattr("sys.stdin", io.StringIO("from-stdin\n"))
    assert main(["hash", "-"]) == 0
    assert capsys.readouterr().out.strip() == hash_token("from-stdin")
    assert main(["new"]) == 0
    token, stored = [line.split(": ", 1)[1] for line in capsys.readouterr().out.splitlines()]
    assert stored == hash_token(token)
    assert main([]) == 2
