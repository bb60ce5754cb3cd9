"""`mailroom doctor`'s fonts line: a relation whose name, address or contact holds a
character none of the embedded faces has is named, with the character and the fix;
Greek and Chinese names print, so they are OK."""

from __future__ import annotations

import subprocess
from pathlib import Path

from mailing.changes import save_record
from mailing.demo import load_demo
from store.records import Administration, Contact, Relation
from store.store import Store
from tests.conftest import PYTHON, cli_env


def _doctor(home: Path) -> tuple[int, list[str]]:
    done = subprocess.run(
        [PYTHON, "-m", "tui", "--home", str(home), "doctor", "--offline"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=300,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout.splitlines()


def _fonts(lines: list[str]) -> list[str]:
    """The Fonts lines, each with its fix line."""
    out = []
    for n, line in enumerate(lines):
        if line[6:].startswith("Fonts"):
            fix = lines[n + 1] if line.startswith("FIX") else ""
            out.append(f"{line}\n{fix}".strip())
    return out


def test_a_character_no_font_has_is_named_with_its_relation(tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = Store(home)
    load_demo(store)
    relations = sorted(store.all(Relation), key=lambda r: r.id)
    linear_b, greek, chinese, contact = relations[:4]
    save_record(store, linear_b.model_copy(update={"name": "Linear 𐀀 B.V."}), linear_b.key)
    save_record(
        store,
        greek.model_copy(update={"name": "Ζωή Παπαδοπούλου", "address": ["Οδός Ερμού 5", "Αθήνα"]}),
        greek.key,
    )
    save_record(
        store,
        chinese.model_copy(update={"name": "北京朝阳贸易有限公司", "address": ["北京市朝阳区"]}),
        chinese.key,
    )
    save_record(
        store,
        contact.model_copy(update={"contacts": [Contact(name="Mr \U0001d11e Clef")]}),
        contact.key,
    )

    code, lines = _doctor(home)
    assert code == 1
    fonts = _fonts(lines)
    assert len(fonts) == 2, "\n".join(lines)
    assert fonts[0].startswith(
        f"FIX   Fonts for relation {linear_b.id}: its name ('Linear 𐀀 B.V.')"
    )
    assert '"𐀀" (U+10000 LINEAR B SYLLABLE B008 A)' in fonts[0]
    assert f"-> edit it in Relations (F5), {linear_b.id}" in fonts[0]
    assert "mailroom config import" in fonts[0]
    assert fonts[1].startswith(f"FIX   Fonts for relation {contact.id}: its contact 1's name")
    assert "U+1D11E MUSICAL SYMBOL G CLEF" in fonts[1]
    assert not [ln for ln in lines if greek.id in ln or chinese.id in ln]

    # Fixed through the door as the F5 form does: the line is OK, the Greek and Chinese too.
    save_record(store, linear_b.model_copy(update={"name": "Linear B B.V."}), linear_b.key)
    save_record(store, contact, contact.key)
    code, lines = _doctor(home)
    assert _fonts(lines) == [
        f"OK    Fonts: the names and addresses of {len(relations)} relation(s) and "
        f"{len(store.all(Administration))} administration(s) print with the embedded fonts"
    ]
    assert code == 0, "\n".join(lines)


def test_an_administration_with_such_a_character_is_named(tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = Store(home)
    load_demo(store)
    adm = store.get(Administration, "KORN")
    address = [*adm.address, "Postbus \U00010000"]
    save_record(store, adm.model_copy(update={"address": address}), adm.key)
    code, lines = _doctor(home)
    assert code == 1
    (line,) = _fonts(lines)
    assert line.startswith(f"FIX   Fonts for administration KORN: its address line {len(address)}")
    assert "U+10000 LINEAR B SYLLABLE B008 A" in line
    assert "-> edit it in Settings (F6), KORN" in line


def test_right_to_left_and_shaped_scripts_print_and_a_script_no_face_has_does_not(
    tmp_path: Path,
) -> None:
    """Arabic, Hebrew, Thai and Devanagari are laid out and shaped (issue 27): OK, and
    said so; Syriac has no face: named, with the relation."""
    home = tmp_path / "home"
    store = Store(home)
    load_demo(store)
    relations = sorted(store.all(Relation), key=lambda r: r.id)
    names = ["شركة النور للتجارة", "חברת שָׁלוֹם בע״מ", "บริษัท สยาม จำกัด", "श्री गणेश ट्रेडर्स"]
    for rel, name in zip(relations, names, strict=False):
        save_record(store, rel.model_copy(update={"name": name}), rel.key)
    code, lines = _doctor(home)
    (line,) = _fonts(lines)
    assert line.startswith("OK    Fonts:"), "\n".join(lines)
    assert "4 relation(s) in a right-to-left or shaped script" in line
    assert "print in reading order" in line
    syriac, long = relations[4], relations[5]
    save_record(store, syriac.model_copy(update={"name": "ܫܠܡܐ"}), syriac.key)
    street = "Burgemeester van Leeuwenlaan tegenover de oude watertoren 1234-b " * 8
    save_record(store, long.model_copy(update={"address": [street]}), long.key)
    code, lines = _doctor(home)
    first, second = _fonts(lines)
    assert code == 1 and first.startswith(f"FIX   Fonts for relation {syriac.id}: its name")
    assert "SYRIAC LETTER SHIN" in first
    # an address the envelope window cannot hold even at 8 pt: named before a build refuses it
    assert second.startswith(f"FIX   Fonts for relation {long.id}: Its documents cannot be drawn")
    assert "envelope window" in second and "address line 1" in second
    assert f"-> edit it in Relations (F5), {long.id}" in second
