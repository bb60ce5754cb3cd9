"""Whether a letterhead can go under a PDF/A-3b document: what it draws must conform.

Runs inside the bounded child process of letterhead_check.py. A letterhead is
refused, with the reason, when it has a font that is not embedded (a viewer would
substitute one, and PDF/A forbids it), transparency (soft masks, transparency
groups, constant alpha below 1, blend modes), JavaScript or actions that run when
the file is opened, or CMYK colour (the archive copy declares an sRGB output intent).
"""

from __future__ import annotations

from typing import Any

_BLEND_OK = {"/Normal", "/Compatible"}


def _get(obj: Any, key: str) -> Any:
    if not hasattr(obj, "get"):
        return None
    value = obj.get(key)
    return value.get_object() if hasattr(value, "get_object") else value


def _font_problem(name: str, font: Any) -> str | None:
    subtype = _get(font, "/Subtype")
    if subtype == "/Type3":
        return None  # its glyphs are drawings in the file itself
    described = font
    if subtype == "/Type0":
        descendants = _get(font, "/DescendantFonts") or []
        described = descendants[0].get_object() if len(descendants) else None
    descriptor = _get(described, "/FontDescriptor")
    if descriptor is None or not any(
        k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")
    ):
        base = str(_get(font, "/BaseFont") or name).lstrip("/")
        return (
            f"The letterhead uses the font {base} without embedding it; an archival PDF "
            "(PDF/A) must carry every font it shows."
        )
    return None


def pdfa_problems(reader: Any, pages: list[Any]) -> list[str]:
    """Why the letterhead cannot be part of a PDF/A-3b document (empty when it can)."""
    problems: list[str] = []
    root = reader.trailer["/Root"].get_object()
    names = _get(root, "/Names")
    if _get(names, "/JavaScript") is not None:
        problems.append("The letterhead holds JavaScript; an archival PDF (PDF/A) may not.")
    if _get(root, "/OpenAction") is not None or _get(root, "/AA") is not None:
        problems.append(
            "The letterhead runs an action when it is opened; an archival PDF (PDF/A) may not."
        )
    seen: set[int] = set()

    def resources(res: Any, where: str) -> None:
        res = res.get_object() if hasattr(res, "get_object") else res
        if not hasattr(res, "get") or id(res) in seen:
            return
        seen.add(id(res))
        fonts = _get(res, "/Font") or {}
        for fname in list(fonts.keys()) if hasattr(fonts, "keys") else []:
            problem = _font_problem(fname, fonts[fname].get_object())
            if problem and problem not in problems:
                problems.append(problem)
        states = _get(res, "/ExtGState") or {}
        for sname in list(states.keys()) if hasattr(states, "keys") else []:
            gs = states[sname].get_object()
            smask = _get(gs, "/SMask")
            alpha = [_get(gs, k) for k in ("/CA", "/ca")]
            blend = _get(gs, "/BM")
            if (
                (smask is not None and smask != "/None")
                or any(a is not None and float(a) < 1 for a in alpha)
                or (blend is not None and str(blend) not in _BLEND_OK)
            ):
                transparency(where)
        colour = _get(res, "/ColorSpace") or {}
        for cname in list(colour.keys()) if hasattr(colour, "keys") else []:
            if "CMYK" in str(colour[cname].get_object()):
                cmyk(where)
        xobjects = _get(res, "/XObject") or {}
        for xname in list(xobjects.keys()) if hasattr(xobjects, "keys") else []:
            xobj = xobjects[xname].get_object()
            if _get(xobj, "/SMask") is not None or _get(xobj, "/Group") is not None:
                transparency(where)
            if "CMYK" in str(_get(xobj, "/ColorSpace") or ""):
                cmyk(where)
            if _get(xobj, "/Subtype") == "/Form":
                resources(_get(xobj, "/Resources"), where)

    def transparency(where: str) -> None:
        text = (
            f"{where} of the letterhead uses transparency (a soft mask, a transparency "
            "group or see-through colour); the archival copy (PDF/A) would not be "
            "reproduced the same everywhere."
        )
        if text not in problems:
            problems.append(text)

    def cmyk(where: str) -> None:
        text = (
            f"{where} of the letterhead uses CMYK colour; the archival copy (PDF/A) "
            "declares sRGB colour."
        )
        if text not in problems:
            problems.append(text)

    for n, page in enumerate(pages, start=1):
        where = f"Page {n}"
        if _get(page, "/Group") is not None:
            transparency(where)
        if _get(page, "/AA") is not None:
            problems.append(
                f"{where} of the letterhead runs an action when shown; an archival PDF "
                "(PDF/A) may not."
            )
        resources(_get(page, "/Resources"), where)
        content = page.get_contents()
        if content is not None and b"/DeviceCMYK" in content.get_data():
            cmyk(where)
    return problems
