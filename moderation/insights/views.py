"""Moderators: the shift dashboard and threshold calibration, drawn on the server."""

from __future__ import annotations

import csv
import io
import logging
import re
from http import HTTPStatus
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from markupsafe import Markup

from ..errors import InvalidInput, ModerationError, NotFound
from ..extensions import db
from ..forms import ReasonForm
from ..models import Site, utcnow
from ..screening.base import DEFAULT_THRESHOLDS
from ..services import figures, site_heads, thresholds
from ..services.access import admin_required, require_site, site_ids
from ..services.comments import get_site
from . import calibration, charts
from .nudges import nudge_rows

logger = logging.getLogger(__name__)

bp = Blueprint("insights", __name__, url_prefix="/mod")

# A label names a score column; anything else in the query string is refused.
_LABEL = re.compile(r"[a-z][a-z0-9_]{0,39}")
STATUS_COLOURS = {
    "published": "#009e73",
    "held": "#e69f00",
    "rejected": "#d55e00",
    "received": "#56b4e9",
    "deleted": "#777777",
}


def _sites_in_scope() -> list[Site]:
    """The sites the current moderator may look at, by name."""
    statement = sa.select(Site).order_by(Site.name, Site.slug)
    allowed = site_ids(current_user)
    if allowed is not None:
        statement = statement.where(Site.id.in_(allowed or {-1}))
    return list(db.session.scalars(statement))


def _chosen_site(slug: str | None) -> Site | None:
    """The site the `site` parameter names, if the moderator works it."""
    if not slug:
        return None
    site = get_site(slug)
    require_site(current_user, site.id)
    return site


def _label(default: str = "toxicity") -> str:
    label = request.args.get("label") or default
    if not _LABEL.fullmatch(label):
        raise InvalidInput("A label is a lower-case name such as toxicity.")
    return label


def _threshold(site: Site | None, label: str) -> float | None:
    """The score at which the site holds comments for this label, if any."""
    if site is None:
        return None
    value = (site.hold_thresholds or DEFAULT_THRESHOLDS).get(label)
    return float(value) if value is not None else None


def _zone(site: Site | None) -> ZoneInfo:
    try:
        return ZoneInfo(site.timezone if site else "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _minutes(value: float | None) -> str:
    """A wait as a moderator says it: 42 min, 3 h 05 min."""
    if value is None:
        return "–"
    if value < 60:
        return f"{value:.0f} min" if value >= 1 else "under 1 min"
    hours, minutes = divmod(round(value), 60)
    return f"{hours} h {minutes:02d} min"


@bp.app_template_filter("wait")
def wait_filter(value: float | None) -> str:
    """Jinja: `minutes|wait`."""
    return _minutes(value)


@bp.get("/dashboard")
@login_required
def dashboard() -> str:
    """The shift at a glance: volume by status, held rate, waits, score spread."""
    span_name = request.args.get("range") or "24h"
    if span_name not in figures.RANGES:
        raise InvalidInput("The range is 24h or 7d.")
    sites = _sites_in_scope()
    site = _chosen_site(request.args.get("site"))
    label = _label()
    scope = {site.id} if site else site_ids(current_user)
    span, bucket = figures.RANGES[span_name]
    window = figures.Window.ending(utcnow(), span, bucket)
    data = figures.dashboard(window, scope, label)
    # One site in view (chosen, or the only one the moderator works): its hours
    # and its threshold line.
    one_site = site or (sites[0] if len(sites) == 1 else None)
    zone = _zone(one_site)
    threshold = _threshold(one_site, label)
    return render_template(
        "insights/dashboard.html",
        data=data,
        sites=sites,
        site=site,
        span_name=span_name,
        label=label,
        labels=sorted(set(data.labels) | {label}),
        threshold=threshold,
        one_site=one_site,
        zone=zone,
        slots=_slot_labels(window, zone, span_name),
        charts=_dashboard_charts(data, one_site, span_name, window, zone, threshold),
        median=figures.percentile(data.waits, 50),
        p90=figures.percentile(data.waits, 90),
        nudges=nudge_rows(window, [site] if site else sites),
    )


def _slot_labels(window: figures.Window, zone: ZoneInfo, span_name: str) -> list[str]:
    pattern = "%H:%M" if span_name == "24h" else "%a %H:%M"
    return [start.astimezone(zone).strftime(pattern) for start in window.starts]


def _dashboard_charts(
    data: figures.Dashboard,
    site: Site | None,
    span_name: str,
    window: figures.Window,
    zone: ZoneInfo,
    threshold: float | None,
) -> dict[str, object]:
    where = site.name if site else "all your sites"
    per = "hour" if window.bucket.total_seconds() == 3600 else "6 hours"
    slots = _slot_labels(window, zone, span_name)
    x_label = f"Time ({zone.key})"
    centres = [i + 0.5 for i in range(window.size)]
    # A week of 6-hour bars: one label a day, at the same hour each day.
    ticks = charts.hourly_ticks(slots, 12 if span_name == "24h" else 7)
    medians = [median for median, _ in data.wait_percentiles]
    p90s = [p90 for _, p90 in data.wait_percentiles]
    status_series = [
        charts.Series(
            status.value.capitalize(),
            data.by_status[status],
            STATUS_COLOURS[status.value],
            status.value,
        )
        for status in figures.STATUS_ORDER
        if any(data.by_status[status]) or status.value in ("published", "held")
    ]
    edges = [i / figures.HISTOGRAM_BINS for i in range(figures.HISTOGRAM_BINS + 1)]
    return {
        "volume": charts.stacked_bars(
            "chart-volume",
            f"Comments per {per} by status, {where}",
            f"{data.total:,} comments received; each bar stacks the comments "
            f"received in one {per.removeprefix('6 ')} by their status now.",
            slots,
            status_series,
            x_label=x_label,
            y_label=f"Comments per {per}",
        ),
        "held_rate": charts.lines(
            "chart-held-rate",
            f"Share of comments the screen held, per {per}, {where}",
            f"{data.total_held:,} of {data.total:,} comments held by the screen.",
            centres,
            [charts.Series("Held by the screen", data.held_rate, "#e69f00", "held")],
            x_domain=(0, window.size),
            x_ticks=ticks,
            x_label=x_label,
            y_label="Held",
            y_format=charts.percent,
        ),
        "waits": charts.lines(
            "chart-waits",
            f"Time in queue per {per}, {where}",
            f"Median and 90th percentile minutes from hold to a moderator's "
            f"decision, over {len(data.waits):,} decisions.",
            centres,
            [
                charts.Series("Median", medians, "#0072b2", "median"),
                charts.Series("90th percentile", p90s, "#cc79a7", "p90"),
            ],
            x_domain=(0, window.size),
            x_ticks=ticks,
            x_label=f"Decided at ({zone.key})",
            y_label="Minutes in queue",
        ),
        "scores": charts.histogram(
            "chart-scores",
            f"{data.label} scores of comments received, {where}",
            f"{sum(data.histogram):,} comments scored for {data.label}, in bins "
            f"of {1 / figures.HISTOGRAM_BINS:.2f}"
            + (
                f"; the site holds at {threshold:.2f}."
                if threshold is not None
                else "."
            ),
            edges,
            data.histogram,
            x_label=f"{data.label} score",
            y_label="Comments",
            marker=(
                charts.Marker(threshold, f"holds at {threshold:.2f}")
                if threshold is not None
                else None
            ),
        ),
    }


def _calibration_site() -> tuple[list[Site], Site | None]:
    sites = _sites_in_scope()
    chosen = _chosen_site(request.args.get("site"))
    return sites, chosen or (sites[0] if sites else None)


def _calibration(site: Site, label: str) -> tuple[list[calibration.Row], int, int]:
    samples, unscored = calibration.decided_samples(site.id, label)
    rows = calibration.calibrate(samples, current=_threshold(site, label))
    return rows, len(samples), unscored


@bp.get("/calibration")
@login_required
def calibrate() -> str:
    """Precision and recall of each hold threshold on what moderators decided;
    with `threshold`, a preview of what it would have done (admins may apply it)."""
    sites, site = _calibration_site()
    label = _label()
    raw = request.args.get("threshold")
    # Parsed before anything is drawn: a bad threshold is a 400 for everyone.
    chosen = thresholds.parse_threshold(raw) if raw is not None else None
    if site is None:
        return render_template(
            "insights/calibration.html", sites=sites, site=None, label=label
        )
    rows, decided, unscored = _calibration(site, label)
    enough = decided >= calibration.MIN_DECISIONS
    chart = _calibration_chart(site, label, rows, decided) if enough else None
    current = _threshold(site, label)
    suggested = calibration.suggest(rows) if enough else None
    preview = (
        calibration.site_preview(site.id, label, chosen, current, site.reject_threshold)
        if chosen is not None
        else None
    )
    last = thresholds.last_change(site, label)
    admin = bool(current_user.is_admin)
    return render_template(
        "insights/calibration.html",
        sites=sites,
        site=site,
        label=label,
        labels=sorted(set(calibration.decided_labels(site.id)) | {label}),
        rows=rows,
        decided=decided,
        unscored=unscored,
        enough=enough,
        minimum=calibration.MIN_DECISIONS,
        rejected=rows[0].rejected if rows else 0,
        chart=chart,
        heads=site_heads.history(site),
        rollback_form=ReasonForm() if admin else None,
        current=current,
        suggested=suggested,
        chosen=chosen,
        typed=raw if raw is not None else "",
        preview=preview,
        apply_form=ReasonForm() if admin and preview is not None else None,
        last_change=last,
        undo_form=ReasonForm() if admin and last and last.undoable else None,
        show=thresholds.show,
    )


def _posted_label() -> str:
    label = str(request.form.get("label") or "")
    if not _LABEL.fullmatch(label):
        raise ModerationError("A label is a lower-case name such as toxicity.")
    return label


def _checked_form() -> ReasonForm:
    form = ReasonForm()
    if not form.validate_on_submit():
        raise ModerationError("A reason has at most 1,000 characters.")
    return form


def _back_to_calibration(site: Site, label: str) -> ResponseReturnValue:
    return redirect(
        url_for("insights.calibrate", site=site.slug, label=label)
    ), HTTPStatus.SEE_OTHER


@bp.post("/calibration/<site>/apply")
@admin_required
def apply_threshold(site: str) -> ResponseReturnValue:
    """Set the site's hold threshold for a label to the previewed one (admins)."""
    found = get_site(site)
    form = _checked_form()
    label = _posted_label()
    value = thresholds.parse_threshold(request.form.get("threshold"))
    raw_expected = str(request.form.get("expected") or "").strip()
    expected = (
        None
        if raw_expected in ("", "none")
        else thresholds.parse_threshold(raw_expected)
    )
    change = thresholds.apply(
        found,
        label,
        value,
        moderator=current_user,
        expected=expected,
        reason=form.reason.data or "",
    )
    if change is None:
        flash(
            f"The {label} threshold of {found.name} is {thresholds.show(value)} "
            "already: nothing changed.",
            "ok",
        )
    else:
        flash(
            f"{found.name} now holds comments at {label} "
            f"{thresholds.show(change.after)} (was {thresholds.show(change.before)}). "
            "Undo is under “Last change” below.",
            "ok",
        )
    return _back_to_calibration(found, label)


@bp.post("/calibration/<site>/undo")
@admin_required
def undo_threshold(site: str) -> ResponseReturnValue:
    """Restore the threshold an audited change replaced (admins)."""
    found = get_site(site)
    form = _checked_form()
    label = _posted_label()
    try:
        entry_id = int(str(request.form.get("entry") or ""))
    except ValueError:
        raise ModerationError(
            "Which change to undo is missing: reload the page."
        ) from None
    change = thresholds.undo(
        found, entry_id, label, moderator=current_user, reason=form.reason.data or ""
    )
    flash(
        f"Undone: {found.name} holds comments at {label} "
        f"{thresholds.show(change.after)} again.",
        "ok",
    )
    return _back_to_calibration(found, label)


@bp.post("/calibration/<site>/rollback")
@admin_required
def rollback_site_head(site: str) -> ResponseReturnValue:
    """Retire the site's active head and go back to the one before (admins)."""
    found = get_site(site)
    form = ReasonForm()
    if not form.validate_on_submit():
        raise InvalidInput("A reason has at most 1,000 characters.")
    previous = site_heads.rollback(
        found, moderator=current_user, reason=form.reason.data or ""
    )
    now = f"v{previous.version}" if previous else "the default model"
    flash(f"Site head rolled back: {now} screens {found.name} now.", "ok")
    return redirect(
        url_for("insights.calibrate", site=found.slug)
    ), HTTPStatus.SEE_OTHER


def _calibration_chart(
    site: Site, label: str, rows: list[calibration.Row], decided: int
) -> Markup:
    current = _threshold(site, label)
    low = min(0.5, rows[0].threshold)
    high = max(1.0, rows[-1].threshold)
    return charts.lines(
        "chart-calibration",
        f"Precision and recall by {label} threshold, {site.name}",
        f"For {decided:,} comments moderators decided: the share of held "
        "comments they rejected (precision) and the share of rejected comments "
        "that would be held (recall), at each threshold.",
        [row.threshold for row in rows],
        [
            charts.Series("Precision", [r.precision for r in rows], "#0072b2", "p"),
            charts.Series("Recall", [r.recall for r in rows], "#d55e00", "r"),
            charts.Series("F1", [r.f1 for r in rows], "#009e73", "f1"),
        ],
        x_domain=(low, high),
        x_ticks=[(t / 10, f"{t / 10:.1f}") for t in range(11) if t / 10 >= low - 1e-9],
        x_label=f"{label} threshold (hold at or above)",
        y_label="Share",
        y_format=charts.percent,
        y_max=1.0,
        marker=(
            charts.Marker(current, f"now {current:.2f}")
            if current is not None
            else None
        ),
    )


def _cell(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


@bp.get("/calibration.csv")
@login_required
def calibration_csv() -> Response:
    """The calibration table as CSV, for a spreadsheet."""
    _, site = _calibration_site()
    if site is None:
        raise NotFound("You moderate no site yet.")
    label = _label()
    rows, _, _ = _calibration(site, label)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "site",
            "label",
            "threshold",
            "would_hold",
            "held_and_rejected",
            "rejected_total",
            "precision",
            "recall",
            "f1",
            "current",
        ]
    )
    for row in rows:
        writer.writerow(
            [
                _spreadsheet_safe(site.slug),
                label,
                f"{row.threshold:.2f}",
                row.held,
                row.held_rejected,
                row.rejected,
                _cell(row.precision),
                _cell(row.recall),
                _cell(row.f1),
                "yes" if row.current else "",
            ]
        )
    stamp = utcnow().strftime("%Y%m%d")
    name = re.sub(r"[^A-Za-z0-9_-]", "-", f"{site.slug}-{label}")
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": (
                f'attachment; filename="calibration-{name}-{stamp}.csv"'
            )
        },
    )


def _spreadsheet_safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
