"""The simulated company: reps, accounts, contacts, campaigns, deals, orders, activities, targets, fx.

Everything is vectorised over (account x day) grids with one numpy Generator, so a seed fixes the
world. Each entity is a typed frame holding every *version* of every record; `_t` is the day index
(0 = first history day) of the version's `updated_at`. Planted truth (archetypes, churn) lives here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from crm_generator import catalog as cat
from crm_generator.ids import make_ids

MINUTE = np.timedelta64(1, "m")


@dataclass
class World:
    """Every version of every record, plus the planted truth."""

    start: date
    history_start: date
    n_days: int
    """history days + landing days; day index t is history_start + t."""
    systems: dict[str, str]
    """rep/account system names present in the run (canonical, salesforce, hubspot)."""
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    truth: pd.DataFrame | None = None

    def day(self, t: int) -> date:
        return self.history_start + timedelta(days=int(t))


def _ts(base: np.datetime64, t: np.ndarray, minutes: np.ndarray) -> np.ndarray:
    """Minute-resolution UTC timestamps (HubSpot exports carry minutes only, so nothing finer)."""
    return (base + t.astype("timedelta64[D]") + minutes.astype("timedelta64[m]")).astype(
        "datetime64[us]"
    )


def _work_minutes(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(8 * 60, 18 * 60, size=n)


def _reps(rng: np.random.Generator, accounts: int, mode: str) -> pd.DataFrame:
    """A VP, one manager per region and field reps per region (8-15 people)."""
    per_region = int(np.clip(accounts // 150, 1, 2))
    rows = [("VP Sales", "Leadership", "North America", -1)]
    for r, region in enumerate(cat.REGIONS):
        rows.append(("manager", "Management", region, 0))
        for k in range(per_region + (1 if region in ("North America", "EMEA") else 0)):
            rows.append(("rep", cat.REP_TEAMS[(r + k) % len(cat.REP_TEAMS)], region, 1 + r * 10))
    n = len(rows)
    names = rng.choice(len(cat.FIRST_NAMES) * len(cat.LAST_NAMES), size=n, replace=False)
    reps = pd.DataFrame(
        {
            "role": [r[0] for r in rows],
            "team": [r[1] for r in rows],
            "region": [r[2] for r in rows],
            "rep_name": [
                f"{cat.FIRST_NAMES[i // len(cat.LAST_NAMES)]} {cat.LAST_NAMES[i % len(cat.LAST_NAMES)]}"
                for i in names
            ],
        }
    )
    # Managers are the rows whose role is manager; map each rep to its region's manager.
    manager_pos = {reg: i for i, (role, _, reg, _) in enumerate(rows) if role == "manager"}
    reps["manager_pos"] = [
        (-1 if role == "VP Sales" else 0 if role == "manager" else manager_pos[reg])
        for role, _, reg, _ in rows
    ]
    # In mixed mode the EMEA and LATAM field teams work in a HubSpot portal (an acquired unit).
    if mode == "mixed":
        reps["system"] = np.where(
            (reps["role"] == "rep") & reps["region"].isin(["EMEA", "LATAM"]),
            "hubspot",
            "salesforce",
        )
    else:
        reps["system"] = {
            "canonical": "canonical",
            "salesforce": "salesforce",
            "hubspot": "hubspot",
        }[mode]
    reps["key"] = np.arange(n)
    return reps


def _ids_by_system(entity: str, keys: np.ndarray, systems: np.ndarray, **kw) -> np.ndarray:
    out = np.empty(len(keys), dtype=object)
    for system in np.unique(systems):
        mask = systems == system
        out[mask] = make_ids(entity, str(system), keys[mask], **kw)
    return out


def _account_names(rng: np.random.Generator, countries: np.ndarray) -> np.ndarray:
    n = len(countries)
    heads = rng.integers(0, len(cat.NAME_HEADS), n)
    tails = rng.integers(0, len(cat.NAME_TAILS), n)
    names = np.array(
        [
            f"{cat.NAME_HEADS[h]} {cat.NAME_TAILS[t]} {cat.LEGAL.get(c, 'Ltd')} {i + 1}"
            for i, (h, t, c) in enumerate(zip(heads, tails, countries, strict=True))
        ],
        dtype=object,
    )
    cn = np.flatnonzero(countries == "CN")
    names[cn] = [f"{cat.CN_CITIES[i % 6]}{cat.CN_WORDS[(i // 6) % 6]}有限公司{i + 1}号" for i in cn]
    special = rng.choice(n, size=min(len(cat.SPECIAL_NAMES), max(1, n // 40)), replace=False)
    for j, i in enumerate(special):
        if countries[i] != "CN":
            names[i] = f"{cat.SPECIAL_NAMES[j]} {i + 1}"
    return names


def _fx(rng: np.random.Generator, first: np.datetime64, n_days: int) -> pd.DataFrame:
    """Daily random-walk rates from `first` for each non-reporting currency."""
    parts = []
    dates = first + np.arange(n_days).astype("timedelta64[D]")
    for cur in cat.FX_CURRENCIES:
        walk = np.exp(np.cumsum(rng.normal(0, 0.003, n_days)))
        parts.append(
            pd.DataFrame(
                {"rate_date": dates, "currency": cur, "rate": np.round(cat.FX_START[cur] * walk, 6)}
            )
        )
    return pd.concat(parts, ignore_index=True)


@dataclass
class _AccountPlan:
    """Per-account truth drawn up front: archetype rates, place, owner, tenure and churn day."""

    archetypes: list[str]
    arche_idx: np.ndarray
    order_rate: np.ndarray
    aov: np.ndarray
    act_rate: np.ndarray
    opp_rate: np.ndarray
    region: np.ndarray
    country: np.ndarray
    currency: np.ndarray
    owner_pos: np.ndarray
    system: np.ndarray
    created_t: np.ndarray
    churn_t: np.ndarray
    at_risk: np.ndarray
    acc_factor: np.ndarray
    ids: np.ndarray

    @property
    def n(self) -> int:
        return len(self.ids)


@dataclass
class _Sim:
    """What the entity builders share. They draw from one RNG in a fixed order, so the order of
    the calls in `build_world` is part of the seed's meaning: reordering them changes the world."""

    rng: np.random.Generator
    base: np.datetime64
    """day 0 (the first history day) as datetime64[D]."""
    T: int
    reps: pd.DataFrame
    plan: _AccountPlan
    rate_grid: dict[str, np.ndarray]
    products_pref: np.ndarray

    def owner_ids(self, acc: np.ndarray) -> np.ndarray:
        return self.reps["rep_id"].to_numpy()[self.plan.owner_pos[acc]]

    def local_amount(self, usd: np.ndarray, cur: np.ndarray, tt: np.ndarray) -> np.ndarray:
        out = usd.copy()
        for c, rates in self.rate_grid.items():
            m = cur == c
            out[m] = usd[m] / rates[np.clip(tt[m], 0, self.T - 1)]
        return np.round(out, 2)

    def pick_products(self, acc: np.ndarray) -> np.ndarray:
        cum = self.products_pref[acc].cumsum(axis=1)
        return np.array(cat.PRODUCTS, dtype=object)[
            (self.rng.random(len(acc))[:, None] > cum).sum(axis=1).clip(0, len(cat.PRODUCTS) - 1)
        ]


def build_world(
    *,
    seed: int,
    start: date,
    days: int,
    history_days: int,
    accounts: int,
    mode: str,
    key_accounts: int = 0,
) -> World:
    """Simulate `history_days + days` days of the company. Deterministic for a seed.

    `key_accounts` champions are made key accounts (see `_plant_key_accounts`); 0 leaves the
    world exactly as it was before the option existed."""
    rng = np.random.default_rng(seed)
    h0 = start - timedelta(days=history_days)
    T = history_days + days
    base = np.datetime64(h0, "D")
    world = World(start=start, history_start=h0, n_days=T, systems={})
    reps, field_reps = _rep_versions(rng, accounts, mode, base, history_days, days)
    plan = _plan_accounts(rng, accounts, reps, field_reps, T)
    order_counts, act_counts, opp_counts = _intensity_grids(rng, plan, base, T)
    products_pref = rng.dirichlet(np.array(cat.PRODUCT_WEIGHTS) * 8, size=accounts)
    fx = _fx(rng, base - np.timedelta64(60, "D"), T + 60)
    fx["_t"] = np.arange(len(fx)) % (T + 60) - 60
    fx["_system"] = "canonical"
    rate_grid = {cur: g["rate"].to_numpy()[60:] for cur, g in fx.groupby("currency")}
    sim = _Sim(rng, base, T, reps, plan, rate_grid, products_pref)
    acc, accounts_df = _account_versions(sim)
    contacts, contact_index = _contacts(sim)
    campaigns, camp_start, camp_ids = _campaigns(sim, world, mode)
    opps, deals = _opportunities(sim, opp_counts, camp_start, camp_ids)
    orders, completed = _orders(sim, order_counts, opps, deals)
    planted = np.zeros(accounts, dtype=bool)
    if key_accounts:
        orders, completed, planted = _plant_key_accounts(sim, orders, completed, key_accounts)
    activities = _activities(sim, act_counts, opps, contact_index)
    world.frames.update(
        reps=reps.drop(columns=["role", "manager_pos", "key"]).rename(
            columns={"system": "_system"}
        ),
        accounts=accounts_df,
        contacts=contacts,
        campaigns=campaigns,
        opportunities=opps,
        orders=orders,
        activities=activities,
        fx_rates=fx,
    )
    world.frames["targets"] = _targets(world, completed, acc, rng)
    world.truth = _truth(world, plan, acc)
    if key_accounts:
        world.truth["planted_key_account"] = (
            pd.Series(planted, index=plan.ids).reindex(world.truth["account_id"]).to_numpy()
        )
    world.systems = {s: s for s in np.unique(plan.system)}
    return world


def _rep_versions(
    rng: np.random.Generator,
    accounts: int,
    mode: str,
    base: np.datetime64,
    history_days: int,
    days: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every rep version (one field rep leaves half way through) and the field reps' first rows."""
    h0: date = base.item()
    reps = _reps(rng, accounts, mode)
    reps["rep_id"] = _ids_by_system("reps", reps["key"].to_numpy(), reps["system"].to_numpy())
    reps["manager_id"] = [reps["rep_id"].iat[m] if m >= 0 else None for m in reps["manager_pos"]]
    reps["is_active"] = True
    reps["updated_at"] = np.datetime64(h0 - timedelta(days=30), "us") + np.timedelta64(9 * 60, "m")
    reps["_t"] = -30
    field_reps = reps[reps["role"] == "rep"]
    # One rep leaves half way through: a second version with is_active false.
    leaver = field_reps.iloc[int(rng.integers(len(field_reps)))].copy()
    leave_t = history_days + max(1, days // 2)
    leaver["is_active"] = False
    leaver["_t"] = leave_t
    leaver["updated_at"] = _ts(base, np.array([leave_t]), np.array([17 * 60]))[0]
    reps = pd.concat([reps, leaver.to_frame().T], ignore_index=True).astype(
        {"is_active": bool, "_t": int}
    )
    return reps, field_reps


def _plan_accounts(
    rng: np.random.Generator, n: int, reps: pd.DataFrame, field_reps: pd.DataFrame, T: int
) -> _AccountPlan:
    """Draw each account's archetype, country, owner, creation day and (for at-risk) churn day."""
    names = list(cat.ARCHETYPES)
    shares = np.array([cat.ARCHETYPES[a][0] for a in names])
    arche_idx = rng.choice(len(names), size=n, p=shares / shares.sum())
    params = np.array([cat.ARCHETYPES[a][1:] for a in names])[arche_idx]
    order_rate, aov, act_rate, opp_rate = params.T
    region = rng.choice(cat.REGIONS, size=n, p=cat.REGION_WEIGHTS)
    country = np.empty(n, dtype=object)
    for reg in cat.REGIONS:
        mask = region == reg
        codes, w = zip(*cat.COUNTRIES[reg], strict=True)
        country[mask] = rng.choice(codes, size=int(mask.sum()), p=np.array(w) / sum(w))
    currency = np.array([cat.COUNTRY_CURRENCY.get(c, "USD") for c in country], dtype=object)
    owner_pos = np.empty(n, dtype=np.int64)
    for reg in cat.REGIONS:
        mask = region == reg
        pool = field_reps.index[field_reps["region"] == reg].to_numpy()
        owner_pos[mask] = rng.choice(pool, size=int(mask.sum()))
    system = reps["system"].to_numpy()[owner_pos]
    # Tenure: most customers predate the history; champions are old, some accounts are new.
    created_t = -rng.integers(30, 2200, size=n)
    new_mask = (
        (rng.random(n) < 0.10)
        & (arche_idx != names.index("dormant"))
        & (arche_idx != names.index("champion"))
        & (arche_idx != names.index("at_risk"))
    )
    created_t[new_mask] = rng.integers(0, max(1, T - 20), size=int(new_mask.sum()))
    created_t[arche_idx == names.index("champion")] -= 1100
    churn_t = np.full(n, np.iinfo(np.int64).max)
    at_risk = arche_idx == names.index("at_risk")
    # Churn dates spread uniformly over the whole history (from CHURN_FIRST_DAY, once a
    # half-year of orders shows the account's usual pace) to CHURN_AFTER_END_DAYS past the end:
    # every stretch of the world, so every training snapshot of a churn model, sees at-risk
    # accounts fading over CHURN_WINDOW_DAYS and then stopping; at the end most have churned, the
    # rest are fading. At most CHURN_MAX_AGE_DAYS before the end, though: churning much earlier
    # would leave them without an order for a year at the end, looking dormant and blurring the
    # archetypes. Short worlds keep the old spread (last 90 days, or from 35% of the world).
    lo = min(cat.CHURN_FIRST_DAY, max(int(T * 0.35), T - cat.CHURN_WINDOW_DAYS))
    lo = max(lo, T - cat.CHURN_MAX_AGE_DAYS)
    churn_t[at_risk] = rng.integers(lo, T + cat.CHURN_AFTER_END_DAYS, size=int(at_risk.sum()))
    acc_factor = rng.lognormal(0, 0.2, n)
    return _AccountPlan(
        archetypes=names,
        arche_idx=arche_idx,
        order_rate=order_rate,
        aov=aov,
        act_rate=act_rate,
        opp_rate=opp_rate,
        region=region,
        country=country,
        currency=currency,
        owner_pos=owner_pos,
        system=system,
        created_t=created_t,
        churn_t=churn_t,
        at_risk=at_risk,
        acc_factor=acc_factor,
        ids=_ids_by_system("accounts", np.arange(n), system),
    )


def _intensity_grids(
    rng: np.random.Generator, plan: _AccountPlan, base: np.datetime64, T: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Order, activity and new-deal counts per (account x day), fading before an account churns."""
    t = np.arange(T)
    # datetime64[D] counts from 1970-01-01, a Thursday (weekday 3 with Monday = 0).
    dow = (base.astype(np.int64) + t + 3) % 7
    weekday = np.array(cat.WEEKDAY)[dow]
    trend = 1.0 + 0.6 * t / max(T, 1)
    alive = t[None, :] >= plan.created_t[:, None]
    # Declining engagement over the 90 days before churn, nothing after it.
    to_churn = (plan.churn_t[:, None] - t[None, :]).astype(float)
    decline = np.clip(to_churn / cat.CHURN_WINDOW_DAYS, 0.08, 1.0) * (to_churn > 0)
    intensity = alive * decline * (plan.acc_factor[:, None] * weekday[None, :] * trend[None, :])
    order_counts = rng.poisson(plan.order_rate[:, None] * intensity)
    act_counts = rng.poisson(plan.act_rate[:, None] * alive * decline * weekday[None, :])
    opp_counts = rng.poisson(plan.opp_rate[:, None] * alive * np.clip(decline * 1.5, 0, 1))
    return order_counts, act_counts, opp_counts


def _account_versions(sim: _Sim) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The accounts' creation versions and those plus later updates (about 12% grow)."""
    rng, plan, base, T, n = sim.rng, sim.plan, sim.base, sim.T, sim.plan.n
    acc = pd.DataFrame(
        {
            "account_id": plan.ids,
            "account_name": _account_names(rng, plan.country),
            "industry": rng.choice(cat.INDUSTRIES, size=n),
            "region": plan.region,
            "country": plan.country,
            "employees": (np.exp(rng.normal(4.5, 1.2, n)) * (1 + 4 * (plan.arche_idx == 0))).astype(
                np.int64
            )
            + 5,
            "annual_revenue": np.round(np.exp(rng.normal(16, 1.3, n)), -3),
            "owner_id": sim.owner_ids(np.arange(n)),
            "created_at": _ts(base, plan.created_t, _work_minutes(rng, n)),
            "is_deleted": False,
            "_t": plan.created_t,
            "_system": plan.system,
        }
    )
    acc["updated_at"] = acc["created_at"]
    upd = np.flatnonzero(rng.random(n) < 0.12)
    upd_t = np.maximum(plan.created_t[upd], 0) + rng.integers(1, max(2, T), size=len(upd))
    keep = upd_t < T
    upd, upd_t = upd[keep], upd_t[keep]
    updates = acc.iloc[upd].copy()
    updates["employees"] = (updates["employees"] * rng.uniform(1.05, 1.5, len(upd))).astype(
        np.int64
    )
    updates["_t"] = upd_t
    updates["updated_at"] = _ts(base, upd_t, _work_minutes(rng, len(upd)))
    return acc, pd.concat([acc, updates], ignore_index=True)


@dataclass
class _ContactIndex:
    """Every drawn contact (before dropping those created after the end), grouped by account."""

    account: np.ndarray
    """account position of each contact; contacts of one account are consecutive."""
    created_t: np.ndarray
    per_account: np.ndarray
    first: np.ndarray
    """position of each account's first contact."""
    ids: np.ndarray


def _contacts(sim: _Sim) -> tuple[pd.DataFrame, _ContactIndex]:
    """One to a few contacts per account, created shortly after it."""
    rng, plan, T, n = sim.rng, sim.plan, sim.T, sim.plan.n
    per_acc = 1 + rng.poisson(1.5, n)
    c_acc = np.repeat(np.arange(n), per_acc)
    nc = len(c_acc)
    c_t = np.maximum(plan.created_t[c_acc], -3000) + rng.integers(0, 30, nc)
    fi = rng.integers(0, len(cat.FIRST_NAMES), nc)
    li = rng.integers(0, len(cat.LAST_NAMES), nc)
    first = np.array(cat.FIRST_NAMES, dtype=object)[fi]
    last = np.array(cat.LAST_NAMES, dtype=object)[li]
    ids = _ids_by_system("contacts", np.arange(nc), plan.system[c_acc])
    contacts = pd.DataFrame(
        {
            "contact_id": ids,
            "account_id": plan.ids[c_acc],
            "email": [
                f"{f.lower()}.{la.lower().replace(' ', '')}{i}@example.com"
                for i, (f, la) in enumerate(zip(first, last, strict=True))
            ],
            "phone": [f"+1-555-{(i * 7919) % 10000:04d}" for i in range(nc)],
            "first_name": first,
            "last_name": last,
            "title": rng.choice(cat.TITLES, size=nc),
            "created_at": _ts(sim.base, c_t, _work_minutes(rng, nc)),
            "is_deleted": False,
            "_t": c_t,
            "_system": plan.system[c_acc],
        }
    )
    contacts["updated_at"] = contacts["created_at"]
    contacts = contacts[contacts["_t"] < T].reset_index(drop=True)
    first_contact = np.concatenate([[0], np.cumsum(per_acc)[:-1]])
    return contacts, _ContactIndex(c_acc, c_t, per_acc, first_contact, ids)


def _campaigns(sim: _Sim, world: World, mode: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """About one campaign every 12 days; returns the frame, start days (sorted) and IDs."""
    rng, base, T = sim.rng, sim.base, sim.T
    ncamp = max(4, T // 12)
    camp_start = np.sort(rng.integers(-20, T, ncamp))
    camp_sys = "salesforce" if mode in ("salesforce", "mixed") else "canonical"
    camp_ids = make_ids("campaigns", camp_sys, np.arange(ncamp))
    channels = rng.choice(cat.CHANNELS, size=ncamp)
    camp_t = camp_start - 7
    campaigns = pd.DataFrame(
        {
            "campaign_id": camp_ids,
            "campaign_name": [
                f"{ch.replace('_', ' ').title()} {world.day(s):%b %Y} #{i + 1}"
                for i, (ch, s) in enumerate(zip(channels, camp_start, strict=True))
            ],
            "channel": channels,
            "start_date": (base + camp_start.astype("timedelta64[D]")),
            "end_date": (
                base + (camp_start + rng.integers(14, 60, ncamp)).astype("timedelta64[D]")
            ),
            "cost": np.round(rng.uniform(2000, 40000, ncamp), 2),
            "currency": rng.choice(["USD", "EUR"], size=ncamp, p=[0.8, 0.2]),
            "updated_at": _ts(base, camp_t, np.full(ncamp, 9 * 60)),
            "_t": camp_t,
            "_system": camp_sys,
        }
    )
    return campaigns, camp_start, camp_ids


@dataclass
class _Deals:
    """One entry per deal drawn: account, creation day, value, product and its planned path."""

    ids: np.ndarray
    account: np.ndarray
    t: np.ndarray
    amount_usd: np.ndarray
    product: np.ndarray
    source: np.ndarray
    camp_idx: np.ndarray
    has_camp: np.ndarray
    outcome: np.ndarray
    """0 won, 1 lost, 2 stalled open."""
    reached: np.ndarray
    """furthest open stage index reached."""
    steps: np.ndarray
    """number of stage changes after creation."""
    cum: np.ndarray
    """day offset of each stage change from creation, shape (deals, MAX_STEPS + 1)."""


MAX_STEPS = 6


def _draw_deals(sim: _Sim, opp_counts: np.ndarray, camp_start: np.ndarray) -> _Deals:
    rng = sim.rng
    o_acc, o_t = np.nonzero(opp_counts)
    reps_o = opp_counts[o_acc, o_t]
    o_acc, o_t = np.repeat(o_acc, reps_o), np.repeat(o_t, reps_o)
    no = len(o_acc)
    outcome = rng.choice(3, size=no, p=[0.35, 0.5, 0.15])
    reached = np.where(outcome == 0, 4, rng.integers(0, 5, no))
    steps = reached + (outcome != 2)
    gaps = np.ceil(rng.exponential(9, size=(no, MAX_STEPS))).astype(np.int64)
    cum = np.concatenate([np.zeros((no, 1), np.int64), gaps.cumsum(axis=1)], axis=1)
    opp_ids = _ids_by_system("opportunities", np.arange(no), sim.plan.system[o_acc])
    amount_usd = np.round(sim.plan.aov[o_acc] * rng.uniform(2, 6, no), -2)
    product = sim.pick_products(o_acc)
    src = rng.choice(cat.LEAD_SOURCES, size=no)
    camp_idx = np.searchsorted(camp_start, o_t, side="right") - 1
    has_camp = (camp_idx >= 0) & np.isin(src, ["Campaign", "Event", "Web"]) & (rng.random(no) < 0.7)
    return _Deals(
        opp_ids,
        o_acc,
        o_t,
        amount_usd,
        product,
        src,
        camp_idx,
        has_camp,
        outcome,
        reached,
        steps,
        cum,
    )


def _stage_versions(deals: _Deals, T: int) -> pd.DataFrame:
    """One row per (deal, stage change) before the end: deal position, stage index, day, step."""
    version_rows = []
    for k in range(MAX_STEPS):
        idx = np.flatnonzero(k <= deals.steps)
        stage_i = np.minimum(k, deals.reached[idx])
        closing = k == deals.steps[idx]
        closed_stage = np.where(deals.outcome[idx] == 0, 5, 6)
        stage_i = np.where(closing & (deals.outcome[idx] != 2), closed_stage, stage_i)
        vt = deals.t[idx] + deals.cum[idx, k]
        version_rows.append(pd.DataFrame({"i": idx, "stage_i": stage_i, "_t": vt, "k": k}))
    ov = pd.concat(version_rows, ignore_index=True)
    return ov[ov["_t"] < T].sort_values(["i", "k"]).reset_index(drop=True)


def _opportunities(
    sim: _Sim, opp_counts: np.ndarray, camp_start: np.ndarray, camp_ids: np.ndarray
) -> tuple[pd.DataFrame, _Deals]:
    """Opportunity versions, one row per stage change, plus tombstones and unchanged re-sends."""
    rng, plan, base, T = sim.rng, sim.plan, sim.base, sim.T
    deals = _draw_deals(sim, opp_counts, camp_start)
    ov = _stage_versions(deals, T)
    oi = ov["i"].to_numpy()
    acc = deals.account[oi]
    stage = np.array(cat.STAGES, dtype=object)[ov["stage_i"].to_numpy()]
    vt = ov["_t"].to_numpy()
    closed = np.isin(stage, ["closed_won", "closed_lost"])
    has_amount = ov["stage_i"].to_numpy() >= 2
    close_t = np.where(closed, vt, deals.t[oi] + 75)
    opp_cur = plan.currency[acc]
    opps = pd.DataFrame(
        {
            "opportunity_id": deals.ids[oi],
            "account_id": plan.ids[acc],
            "owner_id": sim.owner_ids(acc),
            "stage": stage,
            "amount": np.where(
                has_amount,
                sim.local_amount(deals.amount_usd[oi], opp_cur, np.minimum(close_t, T - 1)),
                np.nan,
            ),
            "currency": opp_cur,
            "probability": np.array([cat.STAGE_PROBABILITY[s] for s in stage], dtype=float),
            "lead_source": deals.source[oi],
            "campaign_id": np.where(
                deals.has_camp[oi], camp_ids[np.clip(deals.camp_idx[oi], 0, None)], None
            ),
            "product": deals.product[oi],
            "created_at": _ts(base, deals.t[oi], (deals.t[oi] * 0 + 9 * 60 + (oi * 37) % 480)),
            "close_date": np.where(
                has_amount | closed, base + close_t.astype("timedelta64[D]"), np.datetime64("NaT")
            ),
            "updated_at": _ts(base, vt, 9 * 60 + (oi * 37) % 480 + ov["k"].to_numpy() * 3),
            "is_deleted": False,
            "_t": vt,
            "_system": plan.system[acc],
        }
    )
    # Early leads often have no account yet (warning check, not an error).
    no_acc = (rng.random(len(deals.ids)) < 0.04)[oi] & (ov["stage_i"].to_numpy() == 0)
    opps.loc[no_acc, "account_id"] = None
    return _tombstones_and_resends(rng, opps, T), deals


def _tombstones_and_resends(rng: np.random.Generator, opps: pd.DataFrame, T: int) -> pd.DataFrame:
    """A few deals are deleted later (tombstones), some versions are re-sent unchanged."""
    last = opps.groupby("opportunity_id", sort=False).tail(1)
    dele = last[rng.random(len(last)) < 0.02].copy()
    dele["_t"] = dele["_t"] + rng.integers(1, 10, len(dele))
    dele["updated_at"] = dele["updated_at"] + (
        dele["_t"] - last.loc[dele.index, "_t"]
    ).to_numpy().astype("timedelta64[D]")
    dele["is_deleted"] = True
    resend = opps[rng.random(len(opps)) < 0.03].copy()
    resend["_t"] = resend["_t"] + rng.integers(1, 6, len(resend))
    opps = pd.concat([opps, dele, resend], ignore_index=True)
    opps = opps[opps["_t"] < T]
    # One row per ID per landing day: a re-send landing with another version is dropped.
    return (
        opps.drop_duplicates(["opportunity_id", "_t"], keep="first")
        .sort_values(["_t", "updated_at", "opportunity_id"])
        .reset_index(drop=True)
    )


def _orders(
    sim: _Sim, order_counts: np.ndarray, opps: pd.DataFrame, deals: _Deals
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Orders (Poisson per account-day plus one per won deal) with later refund versions.

    Also returns the completed orders in reporting currency (`day`, `account_id`, `usd`), the
    revenue targets are planned from: refunded orders never count.
    """
    rng, plan, base, T = sim.rng, sim.plan, sim.base, sim.T
    r_acc, r_t = np.nonzero(order_counts)
    cnt = order_counts[r_acc, r_t]
    r_acc, r_t = np.repeat(r_acc, cnt), np.repeat(r_t, cnt)
    usd = plan.aov[r_acc] * rng.lognormal(0, 0.35, len(r_acc)) * (1 + 0.2 * r_t / T)
    won = opps[(opps["stage"] == "closed_won") & ~opps["is_deleted"]].drop_duplicates(
        "opportunity_id"
    )
    won_pos = pd.Index(deals.ids).get_indexer(won["opportunity_id"])
    w_t = won["_t"].to_numpy() + rng.integers(0, 4, len(won))
    ok = w_t < T
    o_accs = np.concatenate([r_acc, deals.account[won_pos][ok]])
    o_ts = np.concatenate([r_t, w_t[ok]])
    o_usd = np.concatenate([usd, deals.amount_usd[won_pos][ok]])
    o_opp = np.concatenate(
        [np.full(len(r_acc), None, dtype=object), won["opportunity_id"].to_numpy()[ok]]
    )
    o_prod = np.concatenate([sim.pick_products(r_acc), won["product"].to_numpy()[ok]])
    nord = len(o_accs)
    status = rng.choice(
        np.array(["completed", "cancelled", "refunded"], dtype=object),
        size=nord,
        p=[0.9, 0.06, 0.04],
    )
    o_cur = plan.currency[o_accs]
    orders = pd.DataFrame(
        {
            "order_id": make_ids("orders", "canonical", np.arange(nord)),
            "account_id": plan.ids[o_accs],
            "order_date": base + o_ts.astype("timedelta64[D]"),
            "amount": sim.local_amount(o_usd, o_cur, o_ts),
            "currency": o_cur,
            "product": o_prod,
            "quantity": rng.integers(1, 12, nord),
            "status": np.where(status == "refunded", "completed", status),
            "opportunity_id": o_opp,
            "updated_at": _ts(base, o_ts, _work_minutes(rng, nord)),
            "is_deleted": False,
            "_t": o_ts,
            "_system": "canonical",
        }
    )
    refunds = orders[status == "refunded"].copy()
    lag = rng.integers(1, 21, len(refunds))
    refunds["_t"] = refunds["_t"] + lag
    refunds["updated_at"] = refunds["updated_at"] + lag.astype("timedelta64[D]")
    refunds["status"] = "refunded"
    orders = pd.concat([orders, refunds[refunds["_t"] < T]], ignore_index=True)
    completed = status == "completed"
    plan_rows = pd.DataFrame(
        {"day": o_ts[completed], "account_id": plan.ids[o_accs[completed]], "usd": o_usd[completed]}
    )
    return orders, plan_rows


def _activities(
    sim: _Sim, act_counts: np.ndarray, opps: pd.DataFrame, contacts: _ContactIndex
) -> pd.DataFrame:
    """Background touches per account-day plus one activity per deal stage change."""
    rng, plan = sim.rng, sim.plan
    a_acc, a_t = np.nonzero(act_counts)
    cnt = act_counts[a_acc, a_t]
    a_acc, a_t = np.repeat(a_acc, cnt), np.repeat(a_t, cnt)
    deal_rows = opps.drop_duplicates(["opportunity_id", "updated_at"])
    deal_rows = deal_rows[deal_rows["account_id"].notna() & ~deal_rows["is_deleted"]]
    d_acc = pd.Index(plan.ids).get_indexer(deal_rows["account_id"])
    acts_acc = np.concatenate([a_acc, d_acc])
    acts_t = np.concatenate([a_t, deal_rows["_t"].to_numpy()])
    na = len(acts_acc)
    a_type = rng.choice(np.array(cat.ACTIVITY_TYPES, dtype=object), size=na, p=cat.ACTIVITY_WEIGHTS)
    a_type[len(a_acc) :] = rng.choice(
        np.array(["call", "meeting", "demo", "email"], dtype=object), size=len(d_acc)
    )
    duration = np.select(
        [a_type == "call", a_type == "meeting", a_type == "demo"],
        [rng.integers(3, 40, na), rng.integers(25, 60, na), rng.integers(45, 90, na)],
        0,
    )
    contact_idx = (
        contacts.first[acts_acc] + rng.integers(0, 1 << 30, na) % contacts.per_account[acts_acc]
    )
    contact_ok = contacts.created_t[contact_idx] <= acts_t
    occurred = _ts(sim.base, acts_t, _work_minutes(rng, na))
    a_sys = plan.system[acts_acc]
    activities = pd.DataFrame(
        {
            "activity_id": _activity_ids(a_sys, a_type),
            "account_id": plan.ids[acts_acc],
            "contact_id": np.where(contact_ok, contacts.ids[contact_idx], None),
            "opportunity_id": np.concatenate(
                [np.full(len(a_acc), None, dtype=object), deal_rows["opportunity_id"].to_numpy()]
            ),
            "owner_id": sim.owner_ids(acts_acc),
            "activity_type": a_type,
            "occurred_at": occurred,
            "duration_minutes": np.where(
                np.isin(a_type, ["call", "meeting", "demo"]), duration, -1
            ),
            "outcome": rng.choice(np.array(cat.OUTCOMES, dtype=object), size=na),
            "updated_at": occurred + np.timedelta64(5, "m"),
            "is_deleted": False,
            "_t": acts_t,
            "_system": a_sys,
        }
    )
    activities["duration_minutes"] = (
        activities["duration_minutes"].astype("Int64").where(activities["duration_minutes"] >= 0)
    )
    return activities


def _activity_ids(systems: np.ndarray, a_type: np.ndarray) -> np.ndarray:
    """Per-system IDs; Salesforce splits activities into Events (00U) and Tasks (00T)."""
    ids = _ids_by_system("activities", np.arange(len(systems)), systems)
    is_event = np.isin(a_type, ["meeting", "demo"])
    sf = systems == "salesforce"
    ids[sf & is_event] = make_ids(
        "activities", "salesforce", np.flatnonzero(sf & is_event), sf_prefix="00U"
    )
    ids[sf & ~is_event] = make_ids(
        "activities", "salesforce", np.flatnonzero(sf & ~is_event), sf_prefix="00T"
    )
    return ids


KEY_ACCOUNT_YEAR_USD = 6_000_000.0
"""What a planted key account completes in the world's last 365 days: above the contract's
5,000,000 default threshold with room for fx, cancellations and refunds."""
LEGACY_ORDER_AGE_DAYS = 30
"""A planted key account's first order, this many days after its creation: champions are created
more than three years before the history starts, so that order passes the tenure rule."""


def _plant_key_accounts(
    sim: _Sim, orders: pd.DataFrame, completed: pd.DataFrame, n: int
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """The first `n` champions (by ID) become key accounts: their order amounts are scaled so the
    last 365 days complete KEY_ACCOUNT_YEAR_USD, and a legacy order (delivered with the first
    landing day's history, like every pre-start record) sets a first order years back. The
    contract's demo thresholds are otherwise never reached by generated companies."""
    plan, T = sim.plan, sim.T
    champions = np.flatnonzero(
        (np.asarray(plan.archetypes, dtype=object)[plan.arche_idx] == "champion") & ~plan.at_risk
    )
    chosen = champions[np.argsort(plan.ids[champions], kind="stable")][:n]
    planted = np.zeros(len(plan.ids), dtype=bool)
    planted[chosen] = True
    ids = plan.ids[chosen]
    last_year = completed[(completed["day"] >= T - 365) & completed["account_id"].isin(ids)]
    usd = last_year.groupby("account_id")["usd"].sum().reindex(ids).fillna(0.0)
    factor = pd.Series(np.maximum(1.0, KEY_ACCOUNT_YEAR_USD / usd.clip(lower=1.0)), index=ids)
    scale = orders["account_id"].map(factor).fillna(1.0).to_numpy()
    orders = orders.assign(amount=np.round(orders["amount"].to_numpy() * scale, 2))
    completed = completed.assign(
        usd=completed["usd"].to_numpy() * completed["account_id"].map(factor).fillna(1.0).to_numpy()
    )
    legacy_t = plan.created_t[chosen] + LEGACY_ORDER_AGE_DAYS
    first_key = orders["order_id"].nunique()  # refunds are versions of an existing order
    cur = plan.currency[chosen]
    legacy = pd.DataFrame(
        {
            "order_id": make_ids("orders", "canonical", first_key + np.arange(len(chosen))),
            "account_id": ids,
            "order_date": sim.base + legacy_t.astype("timedelta64[D]"),
            "amount": sim.local_amount(plan.aov[chosen], cur, legacy_t),
            "currency": cur,
            "product": cat.PRODUCTS[0],
            "quantity": 1,
            "status": "completed",
            "opportunity_id": None,
            "updated_at": _ts(sim.base, legacy_t, np.full(len(chosen), 600)),
            "is_deleted": False,
            "_t": legacy_t,
            "_system": "canonical",
        }
    )
    return pd.concat([orders, legacy], ignore_index=True), completed, planted


def _truth(world: World, plan: _AccountPlan, acc: pd.DataFrame) -> pd.DataFrame:
    """The planted truth per account (archetype, churn date, rates), sorted by account ID."""
    T = world.n_days
    never = np.iinfo(np.int64).max
    return pd.DataFrame(
        {
            "account_id": plan.ids,
            "archetype": np.array(plan.archetypes, dtype=object)[plan.arche_idx],
            "churn_date": [
                world.day(c).isoformat() if c < T + cat.CHURN_WINDOW_DAYS and c != never else None
                for c in plan.churn_t
            ],
            "is_churner": plan.at_risk,
            # churn_date may lie after the last landing day (declining, not yet churned).
            "churned_in_range": plan.churn_t < T,
            "region": plan.region,
            "country": plan.country,
            "owner_id": acc["owner_id"].to_numpy(),
            "created_date": [world.day(c).isoformat() for c in plan.created_t],
            "orders_per_day": np.round(plan.order_rate * plan.acc_factor, 4),
            "order_value_usd": plan.aov,
            "activities_per_day": plan.act_rate,
            "system": plan.system,
        }
    ).sort_values("account_id", kind="stable")


def _targets(
    world: World, plan: pd.DataFrame, acc: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Monthly targets per rep, region and company, planned near the realised revenue.

    `plan` holds completed orders in reporting currency (`day` offset, `account_id`, `usd`).
    Targets are for whole months: a month the simulation covers in part is scaled up to the full
    month (so the running month shows month-to-date attainment). The company target is within
    about +-12% of the realised revenue (attainment typically 0.85-1.15). Rep and region targets
    add a per-key stretch factor and monthly noise, and about 30% of the keys get one stretch
    quarter (3-4 months at x1.35), so `attainment_low` fires for some reps and regions only.
    """
    days = pd.Series(
        pd.to_datetime(world.history_start) + pd.to_timedelta(np.arange(world.n_days), "D")
    )
    covered = days.dt.strftime("%Y-%m").value_counts()
    full = days.groupby(days.dt.strftime("%Y-%m")).first().dt.days_in_month
    scale = full / covered.reindex(full.index)
    owner = dict(zip(acc["account_id"], acc["owner_id"], strict=True))
    region = dict(zip(acc["account_id"], acc["region"], strict=True))
    frame = pd.DataFrame(
        {
            "period": days.dt.strftime("%Y-%m").to_numpy()[plan["day"].to_numpy()],
            "owner": plan["account_id"].map(owner),
            "region": plan["account_id"].map(region),
            "usd": plan["usd"].to_numpy(),
        }
    )
    periods = np.array(sorted(full.index))
    rows = []
    for key, col in (("rep_id", "owner"), ("region", "region")):
        g = frame.groupby(["period", col], sort=True)["usd"].sum().reset_index()
        keys = np.array(sorted(g[col].unique()), dtype=object)
        bias = pd.Series(rng.uniform(0.92, 1.1, len(keys)), index=keys)
        stretch = pd.Series(1.0, index=pd.MultiIndex.from_product([periods, keys]))
        for k in keys[rng.random(len(keys)) < 0.3]:
            first = int(rng.integers(0, max(1, len(periods) - 3)))
            months = periods[first : first + int(rng.integers(3, 5))]
            stretch.loc[[(m, k) for m in months]] = 1.35
        factor = (
            bias[g[col]].to_numpy()
            * rng.uniform(0.9, 1.12, len(g))
            * stretch[list(zip(g["period"], g[col], strict=True))].to_numpy()
        )
        g["target_amount"] = np.round(g["usd"] * scale[g["period"]].to_numpy() * factor, -3)
        rows.append(g.rename(columns={col: key})[["period", key, "target_amount"]])
    company = frame.groupby("period", sort=True)["usd"].sum().reset_index()
    company["target_amount"] = np.round(
        company["usd"]
        * scale[company["period"]].to_numpy()
        * rng.uniform(0.88, 1.14, len(company)),
        -3,
    )
    rows.append(company[["period", "target_amount"]])
    out = pd.concat(rows, ignore_index=True)
    out["currency"] = "USD"
    out["_t"] = -1
    out["_system"] = "canonical"
    return out[["period", "rep_id", "region", "target_amount", "currency", "_t", "_system"]]
