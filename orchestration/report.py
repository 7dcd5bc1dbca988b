"""The analytical CRM report: one self-contained HTML file built from the serving database.

Charts are drawn with matplotlib and embedded as inline SVG, so the file opens offline,
in any browser, with no JavaScript and no request to anywhere. Each section reads the
published marts (what BI users see: hashed personal data, a passing run) and carries a
one-line reading computed from the same figures. Written on every publish
(``<reports>/report.html``) and by ``c360 report``.
"""

from __future__ import annotations

import html
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import matplotlib

matplotlib.use("Agg")  # no display: render to SVG text
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

plt.rcParams.update(
    {
        "svg.fonttype": "none",  # text stays text: smaller files, searchable labels
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "figure.dpi": 100,
    }
)
STAGE_ORDER = [
    "reach_awareness",
    "acquisition",
    "conversion",
    "retention",
    "loyalty_advocacy",
    "lapsed",
]
PALETTE = ["#3b6ea8", "#e07b39", "#5aa469", "#c44e52", "#8172b3", "#937860", "#da8bc3"]


@dataclass(frozen=True)
class Section:
    title: str
    reading: str  # one line: what the chart shows
    svg: str  # the chart, or "" when there is nothing to draw


def _svg(figure: plt.Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and doctype


def _frame(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    return con.execute(sql).df()


def _empty(title: str, why: str) -> Section:
    return Section(title, why, "")


def _bars(labels, values, colour: str, xlabel: str, height: float = 3) -> str:
    """A horizontal bar chart, first label on top."""
    figure, axes = plt.subplots(figsize=(7, height))
    axes.barh(list(labels), list(values), color=colour)
    axes.invert_yaxis()
    axes.set_xlabel(xlabel)
    return _svg(figure)


def lifecycle_funnel(con: duckdb.DuckDBPyConnection) -> Section:
    title = "Lifecycle funnel"
    data = _frame(
        con,
        "select lifecycle_stage, count(*) as customers from marts.dim_customer_360 group by 1",
    )
    if data.empty:
        return _empty(title, "No customers yet.")
    data = data.set_index("lifecycle_stage").reindex(STAGE_ORDER).fillna(0).reset_index()
    chart = _bars(data["lifecycle_stage"], data["customers"], PALETTE[0], "customers")
    total = data["customers"].sum()
    top = data.loc[data["customers"].idxmax()]
    reading = (
        f"{int(total):,} customers; the largest stage is {top['lifecycle_stage']} with "
        f"{top['customers'] / total:.0%}, and {data.set_index('lifecycle_stage').loc['lapsed', 'customers'] / total:.0%} have lapsed."
    )
    return Section(title, reading, chart)


def stage_flow(con: duckdb.DuckDBPyConnection) -> Section:
    title = "Stage flow (transitions between lifecycle stages, all months)"
    data = _frame(
        con,
        "select from_stage, to_stage, sum(transitions) as transitions "
        "from marts.fct_lifecycle_transition_matrix_monthly group by all",
    )
    if data.empty:
        return _empty(title, "No stage changes yet.")
    order = [s for s in STAGE_ORDER if s in set(data["from_stage"]) | set(data["to_stage"])]
    matrix = data.pivot_table(
        index="from_stage", columns="to_stage", values="transitions", fill_value=0
    ).reindex(index=order, columns=order, fill_value=0)
    figure, axes = plt.subplots(figsize=(6, 4))
    image = axes.imshow(matrix.values, cmap="Blues")
    axes.set_xticks(range(len(matrix.columns)), matrix.columns, rotation=45, ha="right")
    axes.set_yticks(range(len(matrix.index)), matrix.index)
    axes.set_xlabel("to stage")
    axes.set_ylabel("from stage")
    figure.colorbar(image, ax=axes, label="transitions")
    top = data.loc[data["transitions"].idxmax()]
    reading = (
        f"The most common move is {top['from_stage']} to {top['to_stage']} "
        f"({int(top['transitions']):,} of {int(data['transitions'].sum()):,} transitions)."
    )
    return Section(title, reading, _svg(figure))


def cohort_heatmap(con: duckdb.DuckDBPyConnection) -> Section:
    title = "Cohort retention (share of each first-purchase month buying again)"
    data = _frame(
        con,
        "select cast(cohort_month as date) as cohort, months_since_first_purchase as month, "
        "retention_share from marts.fct_retention_cohorts where months_since_first_purchase <= 12",
    )
    if data.empty:
        return _empty(title, "No purchases yet.")
    matrix = data.pivot_table(index="cohort", columns="month", values="retention_share")
    figure, axes = plt.subplots(figsize=(7, max(2.5, 0.22 * len(matrix))))
    image = axes.imshow(matrix.values, cmap="YlGnBu", aspect="auto", vmin=0, vmax=1)
    axes.set_yticks(range(len(matrix.index)), [d.strftime("%Y-%m") for d in matrix.index])
    axes.set_xticks(range(len(matrix.columns)), matrix.columns)
    axes.set_xlabel("months since first purchase")
    figure.colorbar(image, ax=axes, label="retention share")
    later = data[data["month"] == 1]["retention_share"]
    reading = (
        f"On average {later.mean():.0%} of a cohort buys again in its second month."
        if not later.empty
        else "Cohorts are too young to show a second month."
    )
    return Section(title, reading, _svg(figure))


def rfm_segments(con: duckdb.DuckDBPyConnection) -> Section:
    title = "RFM segments"
    data = _frame(
        con,
        "select rfm_segment, count(*) as customers, sum(monetary) as monetary "
        "from marts.fct_customer_rfm group by 1 order by customers desc",
    )
    if data.empty:
        return _empty(title, "No buyers yet.")
    chart = _bars(data["rfm_segment"], data["customers"], PALETTE[2], "customers")
    data["monetary"] = data["monetary"].astype(float)
    richest = data.loc[data["monetary"].idxmax()]
    reading = (
        f"{data.iloc[0]['rfm_segment']} is the largest segment ({int(data.iloc[0]['customers']):,} "
        f"customers); {richest['rfm_segment']} holds the most revenue "
        f"({richest['monetary'] / data['monetary'].sum():.0%})."
    )
    return Section(title, reading, chart)


def nps_csat(con: duckdb.DuckDBPyConnection) -> Section:
    title = "NPS and CSAT by month"
    data = _frame(
        con,
        "select cast(response_month as date) as month, nps, csat from marts.fct_feedback_monthly "
        "where breakdown = 'all' order by month",
    )
    if data.empty:
        return _empty(title, "No survey answers yet.")
    figure, left = plt.subplots(figsize=(7, 3))
    left.plot(data["month"], data["nps"], color=PALETTE[0], marker="o", label="NPS")
    left.set_ylabel("NPS (-100..100)")
    right = left.twinx()
    right.plot(data["month"], data["csat"] * 100, color=PALETTE[1], marker="s", label="CSAT %")
    right.set_ylabel("CSAT (% satisfied)")
    figure.legend(loc="upper left")
    latest = data.dropna(subset=["nps"]).iloc[-1] if data["nps"].notna().any() else None
    reading = (
        f"Latest month {latest['month']:%Y-%m}: NPS {latest['nps']:.0f}, CSAT {latest['csat']:.0%}."
        if latest is not None
        else "No NPS answers yet."
    )
    return Section(title, reading, _svg(figure))


def clv_distribution(con: duckdb.DuckDBPyConnection) -> Section:
    title = "Predicted customer lifetime value (next 12 months)"
    status = con.execute(
        "select any_value(status), any_value(reason) from marts.clv_model_parameters"
    ).fetchone()
    data = _frame(
        con, "select predicted_clv from marts.fct_customer_clv where predicted_clv is not null"
    )
    if data.empty:
        why = f" ({status[1]})" if status and status[1] else ""
        return _empty(title, f"The CLV model is not fitted{why}.")
    figure, axes = plt.subplots(figsize=(7, 3))
    clipped = data["predicted_clv"].clip(upper=data["predicted_clv"].quantile(0.99))
    axes.hist(clipped, bins=40, color=PALETTE[4])
    axes.set_xlabel("predicted CLV (top 1% clipped)")
    axes.set_ylabel("customers")
    share = (
        data["predicted_clv"].nlargest(max(len(data) // 5, 1)).sum() / data["predicted_clv"].sum()
    )
    reading = (
        f"Median {data['predicted_clv'].median():,.2f}; the top fifth of customers hold "
        f"{share:.0%} of predicted value."
    )
    return Section(title, reading, _svg(figure))


def clv_backtest(con: duckdb.DuckDBPyConnection) -> Section:
    title = "CLV backtest: predicted against actual purchases in the holdout"
    data = _frame(
        con,
        "select b.model, b.calibration_frequency, b.calibration_end, b.holdout_end, "
        "b.actual_purchases, b.predicted_purchases, p.selected from marts.fct_clv_backtest b "
        "left join (select distinct model, selected from marts.clv_model_parameters) p "
        "using (model) order by b.model, b.calibration_frequency",
    )
    if data.empty or data["predicted_purchases"].isna().all():
        return _empty(title, "No backtest: too few customers before the holdout to fit.")
    start, end = (pd.Timestamp(data[c].iloc[0]).date() for c in ("calibration_end", "holdout_end"))
    figure, axes = plt.subplots(figsize=(7, 3))
    chosen = data[data["selected"].fillna(False).astype(bool)]
    chosen = chosen if not chosen.empty else data[data["model"] == data["model"].iloc[0]]
    model = chosen["model"].iloc[0]
    labels = chosen["calibration_frequency"].tolist()
    axes.plot(labels, chosen["actual_purchases"], marker="o", color=PALETTE[0], label="actual")
    for colour, (name, rows) in zip(PALETTE[1:], data.groupby("model"), strict=False):
        style = "-" if name == model else ":"
        axes.plot(
            labels,
            rows["predicted_purchases"],
            style,
            marker=".",
            color=colour,
            label=f"{name} predicted" + (" (used)" if name == model else ""),
        )
    axes.set_xlabel("repeat purchase days before the holdout")
    axes.set_ylabel("purchase days in the holdout")
    axes.legend(frameon=False)
    actual = chosen["actual_purchases"].sum()
    predicted = chosen["predicted_purchases"].sum()
    reading = (
        f"Fitted up to {start}, {model} predicted {predicted:,.0f} purchase days to {end} "
        f"where customers made {actual:,}: {predicted / actual - 1:+.0%} on the total"
        if actual
        else f"Nobody bought between {start} and {end}"
    ) + "; the model closest over the rows predicts the CLV above."
    return Section(title, reading, _svg(figure))


def aarrr(con: duckdb.DuckDBPyConnection) -> Section:
    title = "AARRR by month (all channels)"
    data = _frame(
        con,
        "select cast(activity_month as date) as month, sum(new_leads) as acquisition, "
        "sum(activated_leads) as activation, sum(returning_buyers) as retention, "
        "sum(referrals) as referral, sum(purchasing_customers) as revenue_customers "
        "from marts.fct_aarrr_monthly group by 1 order by 1",
    )
    if data.empty:
        return _empty(title, "No activity yet.")
    figure, axes = plt.subplots(figsize=(7, 3))
    for colour, column in zip(PALETTE, data.columns[1:], strict=False):
        axes.plot(data["month"], data[column], label=column.replace("_", " "), color=colour)
    axes.set_ylabel("customers")
    axes.legend(ncol=3, fontsize=7)
    recent = data.tail(3)
    reading = (
        f"Over the last three months: {int(recent['acquisition'].sum()):,} new leads, "
        f"{int(recent['activation'].sum()):,} activated, {int(recent['referral'].sum()):,} referrals."
    )
    return Section(title, reading, _svg(figure))


def loyalty(con: duckdb.DuckDBPyConnection) -> Section:
    title = "Loyalty tiers and spend"
    data = _frame(
        con,
        "select tier_group, customers, cast(avg_net_revenue_per_customer as double) as spend "
        "from marts.fct_loyalty_programme_summary",
    )
    members = data[~data["tier_group"].isin(["all members", "non-members"])]
    if members.empty:
        return _empty(title, "No loyalty members yet.")
    figure, (left, right) = plt.subplots(1, 2, figsize=(8, 3))
    left.bar(members["tier_group"], members["customers"], color=PALETTE[5])
    left.set_title("members per tier")
    spend = data[data["tier_group"].isin(["all members", "non-members"])]
    right.bar(spend["tier_group"], spend["spend"], color=[PALETTE[0], PALETTE[1]][: len(spend)])
    right.set_title("average net revenue per customer")
    by_group = dict(zip(spend["tier_group"], spend["spend"], strict=False))
    if {"all members", "non-members"} <= set(by_group):
        reading = (
            f"Members spend {by_group['all members']:,.2f} on average against "
            f"{by_group['non-members']:,.2f} for non-members."
        )
    else:
        reading = f"{int(members['customers'].sum()):,} members across {len(members)} tiers."
    return Section(title, reading, _svg(figure))


def social_sentiment(con: duckdb.DuckDBPyConnection) -> Section:
    title = "Social sentiment by month"
    data = _frame(
        con,
        "select cast(interaction_month as date) as month, sentiment_label, count(*) as n "
        "from marts.fct_social_interactions where sentiment_label is not null group by all",
    )
    if data.empty:
        return _empty(title, "No social interactions with text yet.")
    shares = data.pivot_table(index="month", columns="sentiment_label", values="n", fill_value=0)
    shares = shares.div(shares.sum(axis=1), axis=0)
    figure, axes = plt.subplots(figsize=(7, 3))
    bottom = None
    colours = {"positive": PALETTE[2], "neutral": "#bbbbbb", "negative": PALETTE[3]}
    for label in [c for c in ("positive", "neutral", "negative") if c in shares]:
        axes.bar(
            shares.index, shares[label], width=20, bottom=bottom, label=label, color=colours[label]
        )
        bottom = shares[label] if bottom is None else bottom + shares[label]
    axes.set_ylabel("share of interactions")
    axes.legend(fontsize=7)
    overall = data.groupby("sentiment_label")["n"].sum()
    reading = f"{overall.get('positive', 0) / overall.sum():.0%} positive and {overall.get('negative', 0) / overall.sum():.0%} negative over the whole period."
    return Section(title, reading, _svg(figure))


def action_lists(con: duckdb.DuckDBPyConnection) -> Section:
    title = "Action lists"
    names = [
        n
        for (n,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "and table_name like 'action_%' order by 1"
        ).fetchall()
    ]
    counts = {n: con.execute(f"select count(*) from marts.{n}").fetchone()[0] for n in names}
    if not counts:
        return _empty(title, "No action lists.")
    labels = [n.removeprefix("action_").replace("_", " ") for n in counts]
    chart = _bars(labels, counts.values(), PALETTE[6], "rows", height=2.5)
    biggest = max(counts, key=counts.get)
    reading = f"{sum(counts.values()):,} rows to act on; the longest list is {biggest.removeprefix('action_').replace('_', ' ')} ({counts[biggest]:,})."
    return Section(title, reading, chart)


SECTIONS: tuple[Callable[[duckdb.DuckDBPyConnection], Section], ...] = (
    lifecycle_funnel,
    stage_flow,
    cohort_heatmap,
    rfm_segments,
    nps_csat,
    clv_distribution,
    clv_backtest,
    aarrr,
    loyalty,
    social_sentiment,
    action_lists,
)

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
p.reading { margin: 0.3rem 0 0.6rem; color: #444; }
figure { margin: 0; } figure svg { max-width: 100%; height: auto; }
footer { margin-top: 3rem; font-size: 0.8rem; color: #777; }
"""


def build_report(serving: Path, out: Path) -> Path:
    """Write the report for the published run in ``serving`` to ``out`` (atomically)."""
    with duckdb.connect(str(serving), read_only=True) as con:
        run_id, as_of = con.execute("select run_id, as_of from audit.publish_log").fetchone()
        sections = [section(con) for section in SECTIONS]
    body = "\n".join(
        f'<section><h2>{html.escape(s.title)}</h2><p class="reading">{html.escape(s.reading)}</p>'
        + (f'<figure class="chart">{s.svg}</figure>' if s.svg else "")
        + "</section>"
        for s in sections
    )
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">"
        f"<title>Customer 360 report, as of {as_of}</title><style>{STYLE}</style></head><body>"
        f"<h1>Customer 360 report, as of {as_of}</h1>{body}"
        f"<footer>Published run {html.escape(str(run_id))}; written "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC from {html.escape(serving.name)}.</footer>"
        "</body></html>\n"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.write_text(page, encoding="utf-8")
    os.replace(partial, out)
    return out
