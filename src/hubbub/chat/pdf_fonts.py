"""The Unicode fonts the PDF recap embeds, from Debian packages that
``make fonts`` (scripts/ensure-fonts.sh) installs; nothing is fetched at run
time.

DejaVu Sans writes the Latin alphabets (Polish included); posts in other
scripts fall back, glyph by glyph, to Droid Sans Fallback (Chinese and
Japanese), Nanum Gothic (Korean) and Symbola (emoji, drawn in one colour,
which is what a PDF text font can carry). Every font is embedded as a
subset with its Unicode map, so the text extracts as the text it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
# (family, style, file name, Debian package)
MAIN = (
    ("main", "", "DejaVuSans.ttf", "fonts-dejavu-core"),
    ("main", "B", "DejaVuSans-Bold.ttf", "fonts-dejavu-core"),
)
FALLBACKS = (
    ("cjk", "", "DroidSansFallbackFull.ttf", "fonts-droid-fallback"),
    ("korean", "", "NanumGothic.ttf", "fonts-nanum"),
    ("emoji", "", "Symbola_hint.ttf", "fonts-symbola"),
)
PACKAGES = tuple(dict.fromkeys(pkg for *_rest, pkg in MAIN + FALLBACKS))


class FontsMissing(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Font:
    family: str
    style: str
    path: Path


def _find(name: str, dirs: tuple[Path, ...]) -> Path | None:
    for root in dirs:
        if root.is_dir():
            for found in sorted(root.rglob(name)):
                return found
    return None


def pdf_fonts(dirs: tuple[Path, ...] = FONT_DIRS) -> list[Font]:
    """Every font the PDF uses; a clear error naming the packages when one is missing."""
    fonts: list[Font] = []
    missing: list[str] = []
    for family, style, name, package in MAIN + FALLBACKS:
        path = _find(name, dirs)
        if path is None:
            missing.append(f"{name} ({package})")
        else:
            fonts.append(Font(family, style, path))
    if missing:
        raise FontsMissing(
            "the PDF recap needs these fonts: "
            + ", ".join(missing)
            + f"; install them with `make fonts` (Debian: apt-get install {' '.join(PACKAGES)})"
        )
    return fonts
