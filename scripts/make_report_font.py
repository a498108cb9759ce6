"""Make the report's Chinese font: Noto Sans CJK SC subset to GB 2312 (6,763 hanzi and its symbols),
Latin, Greek, punctuation, arrows, mathematical operators and full-width forms, as WOFF2. The
report embeds a further subset of it, only the characters on the page, so a viewer without
Chinese fonts sees no empty boxes.

    python scripts/make_report_font.py NotoSansCJKsc-Regular.otf

The source used for the committed file: NotoSansCJKsc-Regular.otf, version 1.004, from the
PyPI wheel mplfonts 0.0.11 (mplfonts/fonts/); licence: dagster_project/lib/fonts/OFL.txt.
"""

import sys

from fontTools import subset

from dagster_project.lib.report import FONT_FILE


def gb2312() -> set[str]:
    characters = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                characters.add(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return characters


def main(source: str) -> None:
    options = subset.Options(flavor="woff2", layout_features=["*"], name_IDs=["*"], notdef_outline=True)
    font = subset.load_font(source, options)
    subsetter = subset.Subsetter(options)
    blocks = [(0x20, 0x7E), (0xA0, 0xFF), (0x370, 0x3FF), (0x2000, 0x206F), (0x2190, 0x22FF), (0x3000, 0x303F),
              (0xFF00, 0xFFEF)]
    subsetter.populate(text="".join(gb2312() | {chr(c) for first, last in blocks for c in range(first, last + 1)}))
    subsetter.subset(font)
    subset.save_font(font, str(FONT_FILE), options)
    print(f"wrote {FONT_FILE} ({FONT_FILE.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main(sys.argv[1])
