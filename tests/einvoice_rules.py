"""The official e-invoicing rules, run with Saxon-HE (``saxonche``) over an XML file.

- Peppol BIS Billing 3.0 (``tests/rules/peppol-bis-3/PEPPOL-EN16931-UBL.sch``): a
  Schematron, compiled here to XSLT with SchXslt (``tests/rules/schxslt/``) once and
  cached by the SHA-256 of the rules and the compiler;
- CEN EN 16931 (``tests/rules/en16931/``): the official XSLT for UBL and for CII;
- KoSIT XRechnung 3.0 (``tests/rules/xrechnung/``) for a UBL with XRechnung's
  CustomizationID, a Schematron compiled like Peppol's.

``check(xml)`` returns the failed assertions of every rule set that applies to the
document (UBL: EN 16931 and Peppol; CII: EN 16931) as ``Finding``s with their flag:
``fatal`` ones are errors that an access point refuses, ``warning`` ones are listed.
See ``tests/rules/README.md`` for the versions.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

RULES = Path(__file__).resolve().parent / "rules"
PEPPOL_UBL_SCH = RULES / "peppol-bis-3" / "PEPPOL-EN16931-UBL.sch"
EN16931_UBL = RULES / "en16931" / "EN16931-UBL-validation.xslt"
EN16931_CII = RULES / "en16931" / "EN16931-CII-validation.xslt"
SCHXSLT = RULES / "schxslt" / "2.0" / "pipeline-for-svrl.xsl"
XRECHNUNG_UBL_SCH = RULES / "xrechnung" / "ubl" / "XRechnung-UBL-validation.sch"
SVRL = "http://purl.oclc.org/dsdl/svrl"
_UBL_NS = (
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
)
_CII_NS = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"


@dataclass(frozen=True)
class Finding:
    rules: str  # "Peppol BIS 3" or "EN 16931"
    rule: str  # the rule's id, e.g. PEPPOL-EN16931-R010, BR-27
    flag: str  # fatal | warning
    location: str
    text: str

    def __str__(self) -> str:
        return f"[{self.flag}] {self.rule} ({self.rules}) at {self.location}: {self.text}"


_lock = threading.Lock()
_state: dict[str, Any] = {}


def _processor() -> Any:
    if "proc" not in _state:
        from saxonche import PySaxonProcessor

        _state["proc"] = PySaxonProcessor(license=False)
    return _state["proc"]


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path(tempfile.gettempdir()))
    path = Path(base) / "mailroom-einvoice-rules"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
        for included in sorted(p.parent.parent.rglob("*.sch")):  # XRechnung's common.sch
            h.update(included.read_bytes())
    for p in sorted((RULES / "schxslt").rglob("*.xsl")):
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def compiled_schematron(sch: Path) -> Path:
    """The XSLT that SchXslt compiles ``sch`` to, made once and kept in a cache."""
    target = _cache_dir() / f"{sch.stem}-{_digest(sch)}.xsl"
    if not target.exists():
        proc = _processor()
        xslt = proc.new_xslt30_processor()
        exe = xslt.compile_stylesheet(stylesheet_file=str(SCHXSLT))
        out = exe.transform_to_string(source_file=str(sch))
        if not out:
            raise RuntimeError(f"SchXslt could not compile {sch}: {xslt.error_message}")
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(out, encoding="utf-8")
        os.replace(tmp, target)
    return target


def _executable(stylesheet: Path) -> Any:
    key = str(stylesheet)
    if key not in _state:
        proc = _processor()
        xslt = proc.new_xslt30_processor()
        exe = xslt.compile_stylesheet(stylesheet_file=key)
        if exe is None:
            raise RuntimeError(f"Saxon could not compile {stylesheet}: {xslt.error_message}")
        _state[key] = exe
    return _state[key]


def _findings(rules: str, svrl: str) -> list[Finding]:
    root = etree.fromstring(svrl.encode("utf-8"))
    out = []
    for node in root.iter(f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"):
        text = " ".join("".join(node.itertext()).split())
        out.append(
            Finding(
                rules=rules,
                rule=node.get("id", ""),
                flag=node.get("flag", "fatal"),
                location=node.get("location", ""),
                text=text,
            )
        )
    return out


def _run(rules: str, stylesheet: Path, xml: bytes) -> list[Finding]:
    with _lock:
        proc = _processor()
        exe = _executable(stylesheet)
        node = proc.parse_xml(xml_text=xml.decode("utf-8"))
        svrl = exe.transform_to_string(xdm_node=node)
    if not svrl:
        raise RuntimeError(f"the {rules} rules did not run over the document")
    return _findings(rules, svrl)


def rule_sets(xml: bytes) -> list[tuple[str, Path]]:
    """The rule sets that apply to ``xml``: by its root element."""
    root = etree.fromstring(xml)
    tag = etree.QName(root).namespace
    custom = root.findtext(
        "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}CustomizationID"
    )
    if tag in _UBL_NS and custom and "xeinkauf.de:kosit:xrechnung" in custom:
        return [
            ("EN 16931", EN16931_UBL),
            ("XRechnung 3.0", compiled_schematron(XRECHNUNG_UBL_SCH)),
        ]
    if tag in _UBL_NS:
        return [
            ("EN 16931", EN16931_UBL),
            ("Peppol BIS 3", compiled_schematron(PEPPOL_UBL_SCH)),
        ]
    if tag == _CII_NS:
        return [("EN 16931", EN16931_CII)]
    raise ValueError(f"not a UBL or CII invoice: {tag}")


def check(xml: bytes) -> list[Finding]:
    """Every failed assertion of the official rules over ``xml``."""
    out: list[Finding] = []
    for rules, stylesheet in rule_sets(xml):
        out.extend(_run(rules, stylesheet, xml))
    return out


def fatal(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.flag in ("fatal", "error")]


def warnings(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.flag == "warning"]
