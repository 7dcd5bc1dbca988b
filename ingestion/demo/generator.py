"""Deterministic synthetic CRM, sales and social data in the landing layout, with ground truth.

People are simulated first; each source then sees some of them through its own keys, with
the noise real exports have (case and spacing in emails, phone formats, planted duplicate
contacts, rare email typos, shared placeholder values, corrections delivered later, bad
rows). What the generator knows and the warehouse must rediscover goes to ``_truth/``:

- ``identity.csv``: every source record (and every email seen on touches or referrals) with
  the ``person_id`` it belongs to, for precision and recall of identity resolution;
- ``bad_rows.csv``: file, line and rule of every planted bad row.

Scale 1 is about 100k CRM contacts, 600k order lines and 500k social interactions. All
randomness flows from one seed, so the same arguments give byte-identical files.
"""

from __future__ import annotations

import json
import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
from faker.providers.person.en_US import Provider as PersonNames

PERSONS_AT_SCALE_1 = 125_000
# People are simulated in shards of at most this many, each with its own random stream and
# its own files: memory stays that of scale 1 (about 1 GB) whatever the scale. Scales up to
# 1 are one shard, so their files are those of a single pass.
SHARD_PERSONS = 125_000
COUNTRIES = np.array(["US", "GB", "DE", "FR", "CA"])
COUNTRY_WEIGHTS = np.array([0.6, 0.15, 0.1, 0.08, 0.07])
AREA_CODES = np.array([212, 305, 312, 415, 617, 702, 206, 303, 404, 512])
DOMAINS = np.array(["example.com", "mail.test", "inbox.test", "post.test"])
CATEGORIES = np.array(
    ["home", "kitchen", "garden", "toys", "books", "fashion", "beauty", "sports", "tech", "pets"]
)
_NAMES = (np.array(list(PersonNames.first_names)), np.array(list(PersonNames.last_names)))
PLACEHOLDER_EMAIL = "test@test.com"
PLACEHOLDER_PHONE = "0000000000"
POSITIVE = [
    "love the new collection, great quality!",
    "fantastic support, thank you so much",
    "best purchase this year, highly recommend",
    "amazing delivery speed, very happy",
]
NEGATIVE = [
    "terrible service, my order is late again",
    "worst experience, the product broke",
    "very disappointed with the refund process",
    "awful quality, not buying again",
]
NEUTRAL = [
    "does this come in blue?",
    "when is the next sale",
    "ordered yesterday",
    "what are the opening hours",
]


@dataclass(frozen=True)
class GenerateOptions:
    out: Path
    scale: float = 0.02
    seed: int = 42
    start: date = date(2023, 1, 1)
    days: int = 730
    shard_persons: int = SHARD_PERSONS
    # share of CRM contacts typed in a second time with a typo in the email and no phone:
    # the same person, but no shared key links the copy (probabilistic matching's test)
    typo_duplicates: float = 0.0

    @property
    def n_persons(self) -> int:
        return max(50, round(PERSONS_AT_SCALE_1 * self.scale))

    @property
    def end(self) -> datetime:
        return datetime.combine(self.start, datetime.min.time()) + timedelta(days=self.days)


class _Writer:
    """Writes frames as CSV / JSON Lines / Parquet through DuckDB and records bad rows."""

    def __init__(self, out: Path):
        self.out = out
        self.con = duckdb.connect()
        self.con.execute("set enable_progress_bar = false")  # shards write side by side
        self.bad_rows: list[dict] = []

    def write(
        self,
        df: pd.DataFrame,
        relative: str,
        bad: dict[int, str] | None = None,
        appended: tuple[str, str] | None = None,
    ) -> None:
        """``appended``: a raw line written after the frame, and the rule it breaks."""
        path = self.out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        # as Arrow: DuckDB would otherwise convert each Arrow-backed string column of
        # pandas to Python objects first (a fifth of the generator's time)
        self.con.register("frame", pa.Table.from_pandas(df, preserve_index=False))
        if relative.endswith(".parquet"):
            self.con.execute(f"copy frame to '{path}' (format parquet)")
        elif relative.endswith(".jsonl"):
            # DuckDB writes one JSON object per line, omitting nothing: nulls stay null.
            self.con.execute(f"copy frame to '{path}' (format json)")
        else:
            compression = ", compression gzip" if relative.endswith(".gz") else ""
            self.con.execute(f"copy frame to '{path}' (format csv, header true{compression})")
        self.con.unregister("frame")
        first_line = 1 if relative.endswith((".jsonl", ".parquet")) else 2
        for index, rule in (bad or {}).items():
            self.bad_rows.append({"file": relative, "line": int(index) + first_line, "rule": rule})
        if appended:
            line, rule = appended
            with path.open("a") as export:
                export.write(line + "\n")
            self.bad_rows.append({"file": relative, "line": len(df) + first_line, "rule": rule})


def _ts(values: np.ndarray) -> pd.Series:
    return pd.Series(pd.to_datetime(values).strftime("%Y-%m-%d %H:%M:%S"))


def _format_phone(phone: str | None, style: int) -> str | None:
    """Show a +1 number the way different exports do; other numbers stay as given."""
    if not isinstance(phone, str) or not phone.startswith("+1"):
        return phone
    local = phone[2:]
    if style == 1:
        return f"({local[:3]}) {local[3:6]}-{local[6:]}"
    if style == 2:
        return f"{local[:3]}.{local[3:6]}.{local[6:]}"
    return phone


def _choice(rng: np.random.Generator, options, n: int, p=None) -> np.ndarray:
    return np.asarray(options)[rng.choice(len(options), size=n, p=p)]


@dataclass
class _Catalogs:
    """What every shard shares: account managers, products and brand posts."""

    managers: pd.DataFrame
    products: pd.DataFrame
    posts: pd.DataFrame


# Ids per shard: shard k numbers its rows from k * stride + 1, so shards never meet and
# can run at once; shard 0 numbers from 1, as a single pass does.
ID_STRIDE = {"lines": 10_000_000}  # order_line_id has nine digits
DEFAULT_ID_STRIDE = 1_000_000  # the other ids have eight


@dataclass
class _Shard:
    index: int
    first_person: int
    end_person: int
    catalogs: _Catalogs | None  # None: a single pass, which draws them in line
    counts: dict[str, int] = field(default_factory=dict)

    def ids(self, entity: str, count: int) -> range:
        stride = ID_STRIDE.get(entity, DEFAULT_ID_STRIDE)
        if count > stride:
            raise ValueError(f"{count} {entity} in one shard: more than its id range")
        return range(self.index * stride + 1, self.index * stride + count + 1)

    def count(self, key: str, rows: int) -> None:
        self.counts[key] = self.counts.get(key, 0) + rows


def generate(options: GenerateOptions) -> dict[str, int]:
    """Write the landing folder and ``_truth/``; return rows written per entity.

    Above ``shard_persons`` people the shards run in parallel, one process per core, each
    holding the frames of one shard only."""
    out = Path(options.out)
    truth = out / "_truth"
    parts = truth / "identity_parts"
    parts.mkdir(parents=True, exist_ok=True)
    shards = max(1, -(-options.n_persons // options.shard_persons))
    bounds = np.linspace(0, options.n_persons, shards + 1).round().astype(int)
    writer = _Writer(out)
    catalogs = None
    counts: dict[str, int] = {}
    if shards > 1:
        catalogs = _draw_catalogs(np.random.default_rng([options.seed, 0]), options)
        for name, (_, relative, key) in CATALOGS.items():
            frame = getattr(catalogs, name)
            writer.write(frame, relative)
            counts[key] = len(frame)
    specs = [_Shard(k, int(bounds[k]), int(bounds[k + 1]), catalogs) for k in range(shards)]
    if shards == 1:
        results = [_run_shard(options, specs[0])]
    else:
        with ProcessPoolExecutor(min(shards, _cpus()), mp_context=get_context("spawn")) as pool:
            results = list(pool.map(_run_shard, [options] * shards, specs))
    bad_rows = list(writer.bad_rows)
    for shard_counts, shard_bad_rows in results:
        for key, rows in shard_counts.items():
            counts[key] = counts.get(key, 0) + rows
        bad_rows += shard_bad_rows

    # ---------------------------------------------------------------- truth
    # each shard's records sorted, the shards one after another (a person and their
    # records are in one shard only)
    with (truth / "identity.csv").open("wb") as identity:
        identity.write(b"source,record_id,person_id\n")
        for shard in range(shards):
            with (parts / f"{shard:04d}.csv").open("rb") as part:
                shutil.copyfileobj(part, identity)
    shutil.rmtree(parts)
    pd.DataFrame(bad_rows, columns=["file", "line", "rule"]).sort_values(["file", "line"]).to_csv(
        truth / "bad_rows.csv", index=False
    )
    if options.typo_duplicates > 0:
        counts["crm/contacts_typos"] = _plant_typo_duplicates(out, options)
    (truth / "generation.json").write_text(
        json.dumps(
            {
                "scale": options.scale,
                "seed": options.seed,
                "start": options.start.isoformat(),
                "days": options.days,
                "as_of": (options.end - timedelta(seconds=1)).date().isoformat(),
                "placeholders": {"email": PLACEHOLDER_EMAIL, "phone": PLACEHOLDER_PHONE},
                "rows": counts,
                "shards": shards,
            },
            indent=2,
            sort_keys=True,
        )
    )
    return counts


def _plant_typo_duplicates(out: Path, options: GenerateOptions) -> int:
    """Copies of ``typo_duplicates`` of the CRM contacts with an email (not a placeholder):
    one letter of the email's local part replaced, no phone and no handles, and in a
    quarter of them one letter of the first name too. Written as
    ``crm/contacts/contacts_9999_typos.csv``; each copy joins its person in
    ``_truth/identity.csv`` and its original in ``_truth/typo_duplicates.csv``."""
    rng = np.random.default_rng([options.seed, 9999])
    folder = out / "crm" / "contacts"
    contacts = pd.concat(
        pd.read_csv(f, dtype=str)
        for f in sorted(folder.glob("contacts_*.csv"))
        if "corrections" not in f.name
    ).drop_duplicates("contact_id", keep="last")
    eligible = contacts[
        contacts["email"].notna()
        & (contacts["email"] != PLACEHOLDER_EMAIL)
        & contacts["first_name"].notna()
        & contacts["last_name"].notna()
    ]
    copies = eligible[rng.random(len(eligible)) < options.typo_duplicates].copy()
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))

    def one_letter_off(text: str) -> str:
        position = int(rng.integers(len(text)))
        replacement = rng.choice(letters[letters != text[position].lower()])
        return text[:position] + replacement + text[position + 1 :]

    local = copies["email"].str.strip().str.lower().str.split("@")
    copies["email"] = [one_letter_off(parts[0]) + "@" + parts[1] for parts in local]
    renamed = rng.random(len(copies)) < 0.25
    copies.loc[renamed, "first_name"] = [
        one_letter_off(name) for name in copies.loc[renamed, "first_name"]
    ]
    copies["original_id"] = copies["contact_id"]
    copies["contact_id"] = "CT" + copies["contact_id"].str[1:]
    for column in ("phone", "twitter_handle", "instagram_handle", "facebook_handle"):
        if column in copies:
            copies[column] = None
    copies.drop(columns="original_id").to_csv(folder / "contacts_9999_typos.csv", index=False)
    truth = out / "_truth"
    person = pd.read_csv(truth / "identity.csv", dtype=str)
    person = person[person["source"] == "crm_contact"].set_index("record_id")["person_id"]
    planted = pd.DataFrame(
        {
            "record_id": copies["contact_id"],
            "original_id": copies["original_id"],
            "person_id": copies["original_id"].map(person),
        }
    )
    planted.to_csv(truth / "typo_duplicates.csv", index=False)
    planted.assign(source="crm_contact")[["source", "record_id", "person_id"]].to_csv(
        truth / "identity.csv", mode="a", header=False, index=False
    )
    return len(copies)


def _run_shard(options: GenerateOptions, shard: _Shard) -> tuple[dict[str, int], list[dict]]:
    """One shard with its own random stream and writer: its rows per entity and its
    planted bad rows; its identity truth goes to a part file."""
    rng = np.random.default_rng(options.seed if shard.index == 0 else [options.seed, shard.index])
    writer = _Writer(Path(options.out))
    identity = _generate_shard(options, rng, writer, shard)
    part = Path(options.out) / "_truth" / "identity_parts" / f"{shard.index:04d}.csv"
    identity.drop_duplicates(["source", "record_id"]).sort_values(["source", "record_id"]).to_csv(
        part, index=False, header=False
    )
    return shard.counts, writer.bad_rows


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _draw_managers(rng: np.random.Generator, options: GenerateOptions) -> pd.DataFrame:
    n_managers = max(3, options.n_persons // 2500)
    first_names, last_names = _NAMES
    return pd.DataFrame(
        {
            "account_manager_id": [f"AM{i:04d}" for i in range(1, n_managers + 1)],
            "name": [
                f"{f.title()} {lname}"
                for f, lname in zip(
                    _choice(rng, first_names, n_managers),
                    _choice(rng, last_names, n_managers),
                    strict=True,
                )
            ],
        }
    )


def _draw_products(rng: np.random.Generator, options: GenerateOptions) -> pd.DataFrame:
    n_products = max(50, int(2000 * min(1.0, options.scale * 5)))
    return pd.DataFrame(
        {
            "product_id": [f"P{i:05d}" for i in range(1, n_products + 1)],
            "name": [f"Product {i}" for i in range(1, n_products + 1)],
            "category": _choice(rng, CATEGORIES, n_products),
            "list_price": np.round(rng.lognormal(3.0, 0.7, n_products), 2),
        }
    )


def _draw_posts(rng: np.random.Generator, options: GenerateOptions) -> pd.DataFrame:
    start = np.datetime64(datetime.combine(options.start, datetime.min.time()), "s")
    n_posts = max(10, options.days * 2)
    return pd.DataFrame(
        {
            "post_id": [f"BP{i:06d}" for i in range(1, n_posts + 1)],
            "platform": "twitter",
            "posted_at": _ts(
                start
                + (np.sort(rng.random(n_posts)) * options.days * 86_400)
                .astype("int64")
                .astype("timedelta64[s]")
            ),
            "text": _choice(
                rng,
                ["New arrivals are here", "Weekend sale", "Meet our makers", "Tips and tricks"],
                n_posts,
            ),
            "campaign_id": _choice(rng, [f"CMP{i:03d}" for i in range(1, 25)], n_posts),
        }
    )


CATALOGS = {  # name: how it is drawn, where it is written, its key in the counts
    "managers": (
        _draw_managers,
        "crm/account_managers/account_managers.csv",
        "crm/account_managers",
    ),
    "products": (_draw_products, "sales/products/products.parquet", "sales/products"),
    "posts": (_draw_posts, "social/brand_posts/brand_posts_0001.csv", "social/brand_posts"),
}


def _catalog(
    name: str, shard: _Shard, rng: np.random.Generator, options: GenerateOptions, writer: _Writer
) -> pd.DataFrame:
    """A shared catalog: the one drawn for every shard, or, in a single pass, drawn here at
    its place in the random stream (so scales up to 1 keep the files they always had)."""
    if shard.catalogs is not None:
        return getattr(shard.catalogs, name)
    draw, relative, key = CATALOGS[name]
    frame = draw(rng, options)
    writer.write(frame, relative)
    shard.count(key, len(frame))
    return frame


def _draw_catalogs(rng: np.random.Generator, options: GenerateOptions) -> _Catalogs:
    return _Catalogs(
        _draw_managers(rng, options), _draw_products(rng, options), _draw_posts(rng, options)
    )


def _generate_shard(
    options: GenerateOptions, rng: np.random.Generator, writer: _Writer, shard: _Shard
) -> pd.DataFrame:
    """People ``first_person + 1 .. end_person`` and everything they did; writes their
    files (``name_0001.csv`` for the first shard, ``name_0001_part02.csv`` after it) and
    returns their identity truth."""
    start = np.datetime64(datetime.combine(options.start, datetime.min.time()), "s")
    horizon_s = options.days * 86_400
    first_person = shard.first_person
    n = shard.end_person - first_person
    carried = shard  # rows written and ids used, per entity
    identity: list[pd.DataFrame] = []

    def write(
        frame: pd.DataFrame,
        relative: str,
        bad: dict[int, str] | None = None,
        appended: tuple[str, str] | None = None,
    ) -> None:
        if shard.index:
            stem, dot, extension = relative.partition(".")
            relative = f"{stem}_part{shard.index + 1:02d}{dot}{extension}"
        writer.write(frame, relative, bad, appended)

    # ---------------------------------------------------------------- people
    first_names, last_names = _NAMES
    pid = np.arange(first_person + 1, shard.end_person + 1)
    first = _choice(rng, first_names, n)
    last = _choice(rng, last_names, n)
    country = _choice(rng, COUNTRIES, n, COUNTRY_WEIGHTS)
    domain = _choice(rng, DOMAINS, n)
    email = pd.Series(
        [
            f"{f}.{lname}{i}@{d}".lower()
            for f, lname, i, d in zip(first, last, pid, domain, strict=True)
        ]
    )
    # Unique, plausible numbers: the person id spread over area code, exchange and line.
    area = AREA_CODES[pid % len(AREA_CODES)]
    exchange = 200 + (pid // len(AREA_CODES)) % 800
    line_no = (pid // (len(AREA_CODES) * 800)) % 10_000 + rng.integers(0, 1, n)
    e164 = pd.Series(
        [f"+1{a}{x}{ln:04d}" for a, x, ln in zip(area, exchange, line_no, strict=True)]
    )
    handle = pd.Series(
        [f"{f}{lname}{i}".lower() for f, lname, i in zip(first, last, pid, strict=True)]
    )
    # Persona drives relationship type: how this person prefers to be served.
    persona = _choice(rng, ["human", "self", "auto"], n, [0.35, 0.4, 0.25])
    # Presence in each source. Marketing-only people are reached but never become leads.
    marketing_only = rng.random(n) < 0.05
    has_crm = (rng.random(n) < 0.8) & ~marketing_only
    has_sales = ((rng.random(n) < 0.62) & has_crm) | (
        (rng.random(n) < 0.25) & ~has_crm & ~marketing_only
    )
    has_social = (rng.random(n) < 0.25) & ~marketing_only
    first_seen = start + (rng.random(n) * horizon_s * 0.85).astype("timedelta64[s]")

    # ---------------------------------------------------------------- account managers
    managers = _catalog("managers", shard, rng, options, writer)
    n_managers = len(managers)

    # ---------------------------------------------------------------- CRM contacts
    crm_idx = np.flatnonzero(has_crm)
    placeholder = rng.random(len(crm_idx)) < 0.01
    # A placeholder-carrying person exists only in the CRM, so the truth stays unambiguous.
    has_sales[crm_idx[placeholder]] = False
    has_social[crm_idx[placeholder]] = False
    contacts = pd.DataFrame(
        {
            "contact_id": [f"C{i:07d}" for i in pid[crm_idx]],
            "created_at": _ts(first_seen[crm_idx]),
            "updated_at": _ts(first_seen[crm_idx]),
            "email": np.where(placeholder, PLACEHOLDER_EMAIL, email.iloc[crm_idx]),
            "phone": np.where(
                placeholder,
                PLACEHOLDER_PHONE,
                np.where(rng.random(len(crm_idx)) < 0.7, e164.iloc[crm_idx], None),
            ),
            "first_name": pd.Series(first[crm_idx]).str.title(),
            "last_name": last[crm_idx],
            "country": country[crm_idx],
            "lead_source": _choice(
                rng, ["web", "referral", "event", "paid_social", "partner"], len(crm_idx)
            ),
            "account_manager_id": None,
            "twitter_handle": np.where(
                has_social[crm_idx], "@" + pd.Series(handle.iloc[crm_idx].values).str.title(), None
            ),
            "person_id": pid[crm_idx],
        }
    )
    # Missing emails on some contacts: they still link through phone or stay alone.
    no_email = (
        (rng.random(len(contacts)) < 0.04)
        & ~placeholder
        & contacts["phone"].notna().values
        & ~has_sales[crm_idx]
        & ~has_social[crm_idx]
    )
    contacts.loc[no_email, "email"] = None
    # Dedicated books: the first managers serve a handful of contacts, the rest large books.
    assigned = rng.random(len(contacts)) < 0.04
    small_books = max(1, n_managers // 3)
    manager_for = np.where(
        rng.random(len(contacts)) < 0.5,
        rng.integers(0, small_books, len(contacts)),
        rng.integers(small_books, n_managers, len(contacts)),
    )
    contacts.loc[assigned, "account_manager_id"] = managers["account_manager_id"].values[
        manager_for[assigned]
    ]
    # Planted duplicate contacts: same person typed in again, email in other case and spacing.
    dup = contacts[
        (rng.random(len(contacts)) < 0.03) & ~placeholder & contacts["email"].notna()
    ].copy()
    dup["contact_id"] = [f"D{i:07d}" for i in dup["person_id"]]
    dup["email"] = "  " + dup["email"].str.upper() + " "
    dup["phone"] = None
    dup["twitter_handle"] = None
    contacts = pd.concat([contacts, dup], ignore_index=True)
    contact_of_person = dict(zip(contacts["person_id"], contacts["contact_id"], strict=False))
    identity.append(
        pd.DataFrame(
            {
                "source": "crm_contact",
                "record_id": contacts["contact_id"],
                "person_id": contacts["person_id"],
            }
        )
    )
    # Phone formats vary by export; all resolve to the same E.164 number.
    fmt = rng.integers(0, 3, len(contacts))
    contacts["phone"] = [_format_phone(ph, f) for ph, f in zip(contacts["phone"], fmt, strict=True)]
    contacts_out = contacts.drop(columns=["person_id"]).astype("string")
    bad_contacts: dict[int, str] = {}
    for i in rng.choice(len(contacts_out), size=max(1, len(contacts_out) // 2000), replace=False):
        contacts_out.loc[i, "created_at"] = "31/31/2024"
        bad_contacts[i] = "type"
    write(contacts_out, "crm/contacts/contacts_0001.csv", bad_contacts)
    carried.count("crm/contacts", len(contacts_out))
    # Corrections delivered later: a newer updated_at with a changed country and name case.
    fixed = (
        contacts_out.loc[~contacts_out.index.isin(list(bad_contacts))]
        .sample(frac=0.02, random_state=options.seed + shard.index)
        .copy()
    )
    fixed["updated_at"] = _ts(
        np.full(len(fixed), options.end - timedelta(days=1), dtype="datetime64[s]")
    ).values
    fixed["country"] = "GB"
    write(fixed, "crm/contacts/contacts_0002_corrections.csv")
    carried.count("crm/contacts_corrections", len(fixed))

    # ---------------------------------------------------------------- sales customers
    sales_idx = np.flatnonzero(has_sales)
    ns = len(sales_idx)
    s_email = email.iloc[sales_idx].reset_index(drop=True)
    s_phone = e164.iloc[sales_idx].reset_index(drop=True).astype("object")
    variant = rng.random(ns)
    s_email = np.where(
        variant < 0.15, s_email.str.upper(), np.where(variant < 0.25, " " + s_email, s_email)
    )
    s_phone = np.where(rng.random(ns) < 0.5, s_phone, None)
    # Rare typos in the email: the phone is then always present and shared, so the link holds.
    typo = rng.random(ns) < 0.01
    s_email = np.where(
        typo,
        pd.Series(s_email).str.replace("@", "@@", regex=False).str.replace("@@", "a@"),
        s_email,
    )
    s_phone = np.where(typo, e164.iloc[sales_idx].values, s_phone)
    # Only where the CRM contact carries the same phone can the link survive the noise.
    main_contacts = contacts[contacts["contact_id"].str.startswith("C")]
    crm_phone_of = dict(
        zip(main_contacts["person_id"], main_contacts["phone"].notna(), strict=False)
    )
    crm_has_phone = np.array([bool(crm_phone_of.get(p, False)) for p in pid[sales_idx]])
    s_email = np.where(typo & ~crm_has_phone, email.iloc[sales_idx].values, s_email)
    s_phone = np.where(typo & crm_has_phone, e164.iloc[sales_idx].values, s_phone)
    typo = typo & crm_has_phone
    # Some sales customers give no email at all; the shared phone carries the link then.
    no_sales_email = (rng.random(ns) < 0.05) & crm_has_phone & ~has_social[sales_idx]
    s_email = np.where(no_sales_email, None, s_email)
    s_phone = np.where(no_sales_email, e164.iloc[sales_idx].values, s_phone)
    customers = pd.DataFrame(
        {
            "customer_id": [f"S{i:07d}" for i in pid[sales_idx]],
            "email": s_email,
            "phone": s_phone,
            "first_name": pd.Series(first[sales_idx]).str.title(),
            "last_name": last[sales_idx],
            "country": country[sales_idx],
            "created_at": _ts(first_seen[sales_idx] + np.timedelta64(3600, "s")),
        }
    )
    write(customers.astype("string"), "sales/customers/customers_0001.csv")
    carried.count("sales/customers", len(customers))
    identity.append(
        pd.DataFrame(
            {
                "source": "sales_customer",
                "record_id": customers["customer_id"],
                "person_id": pid[sales_idx],
            }
        )
    )

    # ---------------------------------------------------------------- products
    products = _catalog("products", shard, rng, options, writer)
    n_products = len(products)

    # ---------------------------------------------------------------- orders (buy till you die)
    birth = first_seen[sales_idx] + np.timedelta64(86_400, "s") * rng.integers(0, 60, ns)
    end = np.datetime64(options.end, "s")
    birth = np.minimum(birth, end - np.timedelta64(86_400, "s"))
    remaining = (end - birth).astype("int64")
    lifetime = np.minimum(remaining, (rng.exponential(400, ns) * 86_400).astype("int64"))
    rate = rng.gamma(0.9, 1 / 90, ns)  # purchases per day while alive
    extra = rng.poisson(rate * lifetime / 86_400)
    n_orders = 1 + extra
    owner = np.repeat(np.arange(ns), n_orders)
    offset = np.where(
        np.concatenate([[True], owner[1:] != owner[:-1]]),
        0,
        (rng.random(len(owner)) * lifetime[owner]).astype("int64"),
    )
    ordered_at = birth[owner] + offset.astype("timedelta64[s]")
    order_count = len(owner)
    orders = pd.DataFrame(
        {
            "order_id": [f"O{i:08d}" for i in carried.ids("orders", order_count)],
            "customer_id": customers["customer_id"].values[owner],
            "ordered_at": _ts(ordered_at),
            "status": _choice(
                rng, ["completed", "cancelled", "refunded"], order_count, [0.92, 0.05, 0.03]
            ),
            "currency": "USD",
            "channel": _choice(rng, ["web", "app", "store"], order_count, [0.6, 0.3, 0.1]),
            "updated_at": _ts(ordered_at),
        }
    )
    # Guest checkouts: no customer id, kept as anonymous orders.
    guest = rng.random(order_count) < 0.02
    orders.loc[guest, "customer_id"] = None
    orders_out = orders.astype("string")
    bad_orders: dict[int, str] = {}
    bad_status = rng.choice(order_count, size=max(1, order_count // 3000), replace=False)
    for i in bad_status:
        orders_out.loc[i, "status"] = "shipped??"
        bad_orders[int(i)] = "accepted_values"
    # An exact duplicate line: the second copy is quarantined as a duplicate key.
    dup_row = int(rng.choice(np.setdiff1d(np.arange(order_count), bad_status)))
    orders_out = pd.concat([orders_out, orders_out.iloc[[dup_row]]], ignore_index=True)
    bad_orders[len(orders_out) - 1] = "duplicate_key"
    write(orders_out, "sales/orders/orders_0001.csv", bad_orders)
    carried.count("sales/orders", len(orders_out))
    # A later correction: some completed orders were refunded.
    good_completed = orders.index[
        (orders["status"] == "completed") & ~orders.index.isin(list(bad_orders))
    ]
    refunded = orders.loc[
        rng.choice(good_completed, size=max(1, len(good_completed) // 100), replace=False)
    ].copy()
    refunded["status"] = "refunded"
    refunded["updated_at"] = _ts(
        np.minimum(
            pd.to_datetime(refunded["ordered_at"]).values.astype("datetime64[s]")
            + np.timedelta64(7 * 86_400, "s"),
            end - np.timedelta64(1, "s"),
        )
    ).values
    write(refunded.astype("string"), "sales/orders/orders_0002_refunds.csv")
    carried.count("sales/orders_corrections", len(refunded))

    # ---------------------------------------------------------------- order lines
    n_lines = 1 + rng.poisson(2.0, order_count)
    line_order = np.repeat(np.arange(order_count), n_lines)
    product = np.minimum((rng.pareto(1.2, len(line_order)) * 20).astype(int), n_products - 1)
    quantity = 1 + rng.poisson(0.5, len(line_order))
    unit_price = products["list_price"].values[product]
    discount = np.where(
        rng.random(len(line_order)) < 0.1, np.round(unit_price * quantity * 0.1, 2), 0.0
    )
    lines = pd.DataFrame(
        {
            "order_line_id": [f"L{i:09d}" for i in carried.ids("lines", len(line_order))],
            "order_id": orders["order_id"].values[line_order],
            "product_id": products["product_id"].values[product],
            "quantity": quantity.astype(str),
            "unit_price": [f"{p:.2f}" for p in unit_price],
            "discount_amount": [f"{d:.2f}" for d in discount],
        }
    )
    bad_lines: dict[int, str] = {}
    for i in rng.choice(len(lines), size=max(1, len(lines) // 5000), replace=False):
        lines.loc[i, "quantity"] = "two"
        bad_lines[int(i)] = "type"
    write(lines, "sales/order_lines/order_lines_0001.csv.gz", bad_lines)
    carried.count("sales/order_lines", len(lines))

    # ---------------------------------------------------------------- CRM interactions
    c_person = contacts["person_id"].values
    c_id = contacts["contact_id"].to_numpy(dtype=object)  # indexed per loyalty event below
    c_created = pd.to_datetime(contacts["created_at"]).values.astype("datetime64[s]")
    k = rng.poisson(np.where(persona[c_person - first_person - 1] == "human", 4, 3))
    who = np.repeat(np.arange(len(contacts)), k)
    span = (end - c_created[who]).astype("int64")
    occurred = c_created[who] + (rng.random(len(who)) * span).astype("int64").astype(
        "timedelta64[s]"
    )
    p = persona[c_person[who] - first_person - 1]
    follow = rng.random(len(who)) < 0.8  # how often a person acts in their persona
    handler = np.where(
        follow,
        np.select([p == "human", p == "self"], ["agent", "self_service"], "automated"),
        _choice(rng, ["agent", "self_service", "automated"], len(who)),
    )
    channel = np.select(
        [handler == "agent", handler == "self_service"],
        [
            _choice(rng, ["phone", "chat", "meeting", "email"], len(who)),
            _choice(rng, ["help_center", "faq", "app"], len(who)),
        ],
        _choice(rng, ["email", "sms", "push"], len(who)),
    )
    resolution = (rng.exponential(20, len(who)) * 3600).astype("int64")
    is_open = rng.random(len(who)) < 0.05
    resolved = np.where(is_open, None, _ts(occurred + resolution.astype("timedelta64[s]")))
    interactions = pd.DataFrame(
        {
            "interaction_id": [f"I{i:08d}" for i in carried.ids("interactions", len(who))],
            "contact_id": c_id[who],
            "channel": channel,
            "occurred_at": _ts(occurred),
            "interaction_type": np.where(
                handler == "agent", "ticket", np.where(handler == "automated", "message", "session")
            ),
            "handled_by": handler,
            "resolved_at": resolved,
            "agent_id": np.where(
                handler == "agent", _choice(rng, [f"AG{i:03d}" for i in range(40)], len(who)), None
            ),
            "status": np.where(is_open, "open", "resolved"),
        }
    )
    # A malformed line appended by a broken export: too many fields.
    broken = "I99999999,C0000001,phone,2024-01-01 00:00:00,ticket,agent,,AG001,open,EXTRA"
    write(
        interactions,
        "crm/interactions/interactions_0001.csv",
        appended=(broken, "well_formed_line"),
    )
    carried.count("crm/interactions", len(interactions) + 1)

    # ---------------------------------------------------------------- surveys
    responders = rng.random(len(contacts)) < 0.35
    r_idx = np.repeat(np.flatnonzero(responders), 1 + rng.poisson(0.6, responders.sum()))
    r_span = (end - c_created[r_idx]).astype("int64")
    r_at = c_created[r_idx] + (rng.random(len(r_idx)) * r_span).astype("int64").astype(
        "timedelta64[s]"
    )
    survey_type = _choice(rng, ["nps", "csat"], len(r_idx), [0.6, 0.4])
    nps = rng.choice(11, size=len(r_idx), p=np.array([2, 1, 1, 2, 2, 4, 6, 10, 16, 26, 30]) / 100)
    csat = rng.choice(np.arange(1, 6), size=len(r_idx), p=[0.05, 0.08, 0.17, 0.35, 0.35])
    surveys = pd.DataFrame(
        {
            "response_id": [f"R{i:08d}" for i in carried.ids("responses", len(r_idx))],
            "contact_id": c_id[r_idx],
            "survey_type": survey_type,
            "score": np.where(survey_type == "nps", nps, csat).astype(str),
            "responded_at": _ts(r_at),
        }
    )
    bad_surveys = {}
    for i in rng.choice(len(surveys), size=max(1, len(surveys) // 1000), replace=False):
        surveys.loc[i, "score"] = "11"
        bad_surveys[int(i)] = "range"
    write(surveys, "crm/survey_responses/survey_responses_0001.csv", bad_surveys)
    carried.count("crm/survey_responses", len(surveys))

    # ---------------------------------------------------------------- loyalty
    members = np.flatnonzero(
        (rng.random(len(contacts)) < 0.3) & contacts["contact_id"].str.startswith("C").values
    )
    events = []
    first_event = carried.ids("loyalty", 0).start
    eid = first_event - 1
    tiers = ["bronze", "silver", "gold", "platinum"]
    m_enroll = c_created[members] + (rng.random(len(members)) * 30 * 86_400).astype("int64").astype(
        "timedelta64[s]"
    )
    n_earn = rng.poisson(4, len(members))
    for m, enrolled, k_earn in zip(members, m_enroll, n_earn, strict=True):
        if enrolled >= end:
            continue
        eid += 1
        events.append((f"E{eid:08d}", c_id[m], "enroll", 0, enrolled, "bronze"))
        balance = 0
        t = enrolled
        tier = 0
        for _ in range(k_earn):
            t = t + np.timedelta64(int(rng.exponential(40) * 86_400) + 1, "s")
            if t >= end:
                break
            pts = int(rng.integers(10, 300))
            balance += pts
            eid += 1
            events.append((f"E{eid:08d}", c_id[m], "earn", pts, t, None))
            # a redemption or tier change an hour or two after an earn happens only inside
            # the history: nothing is dated after its last day (the draws stay the same)
            if rng.random() < 0.3 and balance > 100:
                spend = int(rng.integers(50, balance + 1))
                if t + np.timedelta64(3600, "s") < end:
                    balance -= spend
                    eid += 1
                    events.append(
                        (
                            f"E{eid:08d}",
                            c_id[m],
                            "redeem",
                            -spend,
                            t + np.timedelta64(3600, "s"),
                            None,
                        )
                    )
            if rng.random() < 0.15 and tier < 3 and t + np.timedelta64(7200, "s") < end:
                tier += 1
                eid += 1
                events.append(
                    (
                        f"E{eid:08d}",
                        c_id[m],
                        "tier_change",
                        0,
                        t + np.timedelta64(7200, "s"),
                        tiers[tier],
                    )
                )
    if eid - first_event >= DEFAULT_ID_STRIDE:
        raise ValueError("more loyalty events in one shard than its id range")
    loyalty = pd.DataFrame(
        events, columns=["event_id", "contact_id", "event_type", "points", "occurred_at", "tier"]
    )
    loyalty["occurred_at"] = (
        _ts(loyalty["occurred_at"].values.astype("datetime64[s]")) if len(loyalty) else []
    )
    write(loyalty, "crm/loyalty_events/loyalty_events_0001.jsonl")
    carried.count("crm/loyalty_events", len(loyalty))

    # ---------------------------------------------------------------- campaign touches
    touched = np.flatnonzero(has_crm | marketing_only)
    t_idx = np.repeat(touched, rng.poisson(3, len(touched)))
    t_at = start + (rng.random(len(t_idx)) * horizon_s).astype("int64").astype("timedelta64[s]")
    crm_email_shown = np.zeros(n + 1, dtype=bool)  # by person id - first_person
    shown = contacts["email"].notna() & (contacts["email"] != PLACEHOLDER_EMAIL)
    crm_email_shown[contacts.loc[shown, "person_id"].values - first_person] = True
    by_email = marketing_only[t_idx] | (
        (rng.random(len(t_idx)) < 0.2) & crm_email_shown[pid[t_idx] - first_person]
    )
    touch_contact = np.array([contact_of_person.get(p) for p in pid[t_idx]], dtype=object)
    touch_contact = np.where(by_email, None, touch_contact)
    by_email = by_email | pd.isna(touch_contact)
    is_auto = persona[t_idx] == "auto"
    touches = pd.DataFrame(
        {
            "touch_id": [f"T{i:08d}" for i in carried.ids("touches", len(t_idx))],
            "touch_type": np.where(
                is_auto & (rng.random(len(t_idx)) < 0.6),
                _choice(rng, ["recommendation_click", "triggered_message"], len(t_idx)),
                _choice(
                    rng, ["send", "open", "click", "impression"], len(t_idx), [0.4, 0.3, 0.2, 0.1]
                ),
            ),
            "occurred_at": _ts(t_at),
            "contact_id": touch_contact,
            "email": np.where(by_email, email.iloc[t_idx].values, None),
            "campaign_id": _choice(rng, [f"CMP{i:03d}" for i in range(1, 25)], len(t_idx)),
            "channel": _choice(rng, ["email", "display", "social"], len(t_idx)),
        }
    )
    # A contact with a placeholder email keeps its touches by contact id only.
    write(touches, "crm/campaign_touches/campaign_touches_0001.csv")
    carried.count("crm/campaign_touches", len(touches))
    touch_emails = touches.loc[touches["email"].notna(), "email"]
    identity.append(
        pd.DataFrame(
            {
                "source": "email_seen",
                "record_id": touch_emails.str.strip().str.lower(),
                "person_id": pid[t_idx][touches["email"].notna().values],
            }
        )
    )

    # ---------------------------------------------------------------- social
    soc_idx = np.flatnonzero(has_social)
    lists_handle = has_crm[soc_idx]
    profile_email = np.where(
        ~lists_handle | (rng.random(len(soc_idx)) < 0.2), email.iloc[soc_idx].values, None
    )
    profiles = pd.DataFrame(
        {
            "profile_id": [f"TW{i:07d}" for i in pid[soc_idx]],
            "platform": "twitter",
            "handle": handle.iloc[soc_idx].values,
            "email": profile_email,
            "followers": rng.integers(0, 5000, len(soc_idx)).astype(str),
            "display_name": pd.Series(first[soc_idx]).str.title(),
        }
    )
    # Social-only people without an email have no link, and are their own customers.
    write(profiles, "social/profiles/profiles_0001.csv")
    carried.count("social/profiles", len(profiles))
    identity.append(
        pd.DataFrame(
            {
                "source": "social_profile",
                "record_id": profiles["profile_id"],
                "person_id": pid[soc_idx],
            }
        )
    )

    posts = _catalog("posts", shard, rng, options, writer)
    n_posts = len(posts)

    s_who = np.repeat(np.arange(len(soc_idx)), rng.poisson(16, len(soc_idx)))
    s_start = first_seen[soc_idx][s_who]
    s_at = s_start + (rng.random(len(s_who)) * (end - s_start).astype("int64")).astype(
        "int64"
    ).astype("timedelta64[s]")
    s_type = _choice(
        rng,
        ["mention", "comment", "like", "share", "direct_message", "review", "referral"],
        len(s_who),
        [0.25, 0.2, 0.3, 0.1, 0.05, 0.07, 0.03],
    )
    mood = rng.random(len(s_who))
    text = np.where(
        mood < 0.55,
        _choice(rng, POSITIVE, len(s_who)),
        np.where(
            mood < 0.75, _choice(rng, NEGATIVE, len(s_who)), _choice(rng, NEUTRAL, len(s_who))
        ),
    )
    email_shown = crm_email_shown[1:].copy()
    email_shown[sales_idx[pd.notna(s_email) & ~typo]] = True
    email_shown[soc_idx[pd.notna(profile_email)]] = True
    recordless = ~has_crm & ~has_sales & ~has_social
    referable = pid[email_shown | recordless | marketing_only]
    referred_person = referable[rng.integers(0, len(referable), len(s_who))]
    social = pd.DataFrame(
        {
            "interaction_id": [f"SI{i:08d}" for i in carried.ids("social", len(s_who))],
            "profile_id": profiles["profile_id"].values[s_who],
            "interaction_type": s_type,
            "occurred_at": _ts(s_at),
            "text": np.where(np.isin(s_type, ["like", "share", "referral"]), None, text),
            "post_id": np.where(
                np.isin(s_type, ["comment", "like", "share"]),
                posts["post_id"].values[rng.integers(0, n_posts, len(s_who))],
                None,
            ),
            "referred_email": np.where(
                s_type == "referral", email.iloc[referred_person - first_person - 1].values, None
            ),
        }
    )
    write(social, "social/interactions/interactions_0001.jsonl")
    carried.count("social/interactions", len(social))
    referred = social["referred_email"].notna()
    identity.append(
        pd.DataFrame(
            {
                "source": "email_seen",
                "record_id": social.loc[referred, "referred_email"],
                "person_id": referred_person[referred.values],
            }
        )
    )

    return pd.concat(identity, ignore_index=True)
