"""A tiny hand-written canonical landing zone: two days, one deliberately bad row per kind."""

from __future__ import annotations

from pathlib import Path

DAY1 = {
    "reps.csv": "rep_id,rep_name,team,region,is_active\nr1,Ann Lee,East,EMEA,true\nr2,Bob Ray,West,North America,yes\n",
    "accounts.csv": (
        "account_id,account_name,industry,region,country,employees,annual_revenue,owner_id,created_at\n"
        'a1,Acme,Tech,EMEA,DE,120,"1,200,000",r1,2023-01-01\n'
        "a2,Globex,Retail,North America,NA,50,300000,r2,2023-02-01\n"
    ),
    "fx_rates.csv": "date,currency,rate\n2023-12-01,EUR,1.10\n2024-01-01,EUR,1.20\n",
    "opportunities.csv": (
        "opportunity_id,account_id,owner_id,stage,amount,currency,created_at,close_date,updated_at\n"
        "o1,a1,r1,Prospecting,1000,EUR,2023-12-01T10:00:00Z,,2023-12-01T10:00:00Z\n"
        "o2,a2,r2,closed_won,500,USD,2023-11-01,2023-12-20,2023-12-20T09:00:00Z\n"
        "o3,a2,r2,Dreaming,10,USD,2023-11-01,,2023-12-20\n"
        "o2,a2,r2,negotiation,500,USD,2023-11-01,,2023-12-10T09:00:00Z\n"
    ),
    "orders.csv": (
        "order_id,account_id,order_date,amount,currency,status\n"
        "x1,a1,2023-12-05,100,EUR,completed\n"
        "x2,a2,2023-12-06,-5,USD,completed\n"
        'x3,a2,2023-12-07,"$1,250.50",USD,\n'
        'x3,a2,2023-12-07,"$1,250.50",USD,\n'
    ),
}
DAY2 = {
    "opportunities.csv": (
        "opportunity_id,account_id,owner_id,stage,amount,currency,created_at,close_date,updated_at\n"
        "o1,a1,r1,proposal,1100,EUR,2023-12-01T10:00:00Z,2024-02-01,2024-01-02T08:00:00Z\n"
    ),
}


def write_landing(root: Path) -> Path:
    for day, files in (("2024-01-01", DAY1), ("2024-01-02", DAY2)):
        folder = root / day
        folder.mkdir(parents=True)
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
    return root
