"""Counts of notifications by sector, member or month, and a bar chart of them (matplotlib)."""

from __future__ import annotations

import warnings
from collections import Counter
from datetime import date
from pathlib import Path

from sqlmodel import Session, col, select

from tbt_alert.errors import TbtAlertError
from tbt_alert.store.tables import Notification
from tbt_alert.triage.decisions import effective_map

# file names of the fonts below, as the usual packages install them (wqy-microhei.ttc, ...)
CJK_FILE_TAGS = ("wqy", "notosanscjk", "notoserifcjk", "notosanssc", "sourcehan", "simhei", "msyh")
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "AR PL UMing CN",
)


def counts(session: Session, by: str, since: date | None = None) -> list[tuple[str, int]]:
    """(key, notifications) most first; by sector counts each effective label once."""
    stmt = select(Notification)
    if since is not None:
        stmt = stmt.where(col(Notification.distribution_date) >= since)
    rows = list(session.exec(stmt.execution_options(yield_per=2000)).all())
    found: Counter[str] = Counter()
    if by == "sector":
        for state in effective_map(session, rows).values():
            found.update(state.labels)
    elif by == "member":
        found.update(r.member_code or "?" for r in rows)
    elif by == "month":
        found.update(
            r.distribution_date.strftime("%Y-%m") if r.distribution_date else "?" for r in rows
        )
    else:
        raise TbtAlertError(f"cannot count by {by!r}: sector, member or month")
    if by == "month":
        return sorted(found.items())
    return sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))


def cjk_font() -> str | None:
    """A font family installed here that draws Chinese, or None."""
    from matplotlib import font_manager

    manager = font_manager.fontManager
    found = next((n for n in CJK_FONTS if n in {f.name for f in manager.ttflist}), None)
    if found is None:
        # matplotlib keeps the fonts it saw when its cache was made: a CJK font installed since
        # is only on disk, so add the system's CJK font files by name and look again
        for path in font_manager.findSystemFonts():
            if any(tag in Path(path).name.lower() for tag in CJK_FILE_TAGS):
                try:
                    manager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        found = next((n for n in CJK_FONTS if n in {f.name for f in manager.ttflist}), None)
    return found


def plot(
    data: list[tuple[str, int]], title: str, path: Path, unit: str = "notifications"
) -> str | None:
    """Draw a horizontal bar chart to ``path`` (PNG); return the CJK font used, or None."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font = cjk_font()
    if font:
        plt.rcParams["font.sans-serif"] = [font, "DejaVu Sans"]
        plt.rcParams["axes.unicode_minus"] = False
    shown = data[:40]
    fig, ax = plt.subplots(figsize=(9, max(3.0, 0.32 * len(shown) + 1.2)))
    try:
        ax.barh([k for k, _ in shown][::-1], [v for _, v in shown][::-1], color="#3b6ea5")
        ax.set_title(title)
        ax.set_xlabel(unit)
        with warnings.catch_warnings():  # without a CJK font: said once by the caller
            warnings.filterwarnings("ignore", message="Glyph .* missing from font")
            fig.tight_layout()
            fig.savefig(path, dpi=110)
    except OSError as e:
        raise TbtAlertError(f"cannot write {path}: {e.strerror or e}") from e
    finally:
        plt.close(fig)
    return font
