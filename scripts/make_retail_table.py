"""A retail transactions table with the hierarchies real sales tables have, for trying DP on
columns another column determines (docs/quality.md, stop 53): 12,000 rows; 40 stores, each in
one of 6 regions and of one of 3 formats; 60 products, each in one of 10 categories, each
category in one of 3 departments; a unit price set by the product (lognormal around its
category's level, two decimals); a quantity of 1 to 12 (mostly 1-3); a discount that is 0 in
70% of rows and 5-40% otherwise (more often in the outlet format); a payment method whose
shares follow the region; a date in 2024; a customer age; and a `returned` flag (about 12%)
that rises with the discount and in two categories. Seeded; standard library.

    python3 scripts/make_retail_table.py OUT.csv
"""
import datetime
import math
import random
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "retail.csv"
r = random.Random(53)
regions = ["North", "South", "East", "West", "Central", "Coast"]
formats = ["Mall", "Street", "Outlet"]
departments = ["Home", "Fashion", "Electronics"]
categories = [("Kitchen", 0, 25.0), ("Bedding", 0, 60.0), ("Decor", 0, 18.0),
              ("Womenswear", 1, 45.0), ("Menswear", 1, 40.0), ("Shoes", 1, 70.0),
              ("Accessories", 1, 15.0), ("Phones", 2, 350.0), ("Audio", 2, 90.0),
              ("Cables", 2, 12.0)]
stores = [(f"S{i:03d}", regions[(i * 7) % 6], formats[(i * 5) % 3]) for i in range(40)]
store_weights = [1.0 + (i % 9) for i in range(40)]
products = []
for p in range(60):
    c = (p * 7) % 10
    name, d, level = categories[c]
    products.append((f"P{p:03d}", name, departments[d], level * math.exp(r.gauss(0, 0.35))))
product_weights = [1.0 / (1 + p % 12) for p in range(60)]
payment = {"North": [0.6, 0.3, 0.1], "South": [0.4, 0.4, 0.2], "East": [0.7, 0.2, 0.1],
           "West": [0.5, 0.3, 0.2], "Central": [0.3, 0.5, 0.2], "Coast": [0.55, 0.25, 0.2]}
start = datetime.date(2024, 1, 1)
with open(out, "w") as f:
    f.write("store,region,store_format,product,category,department,unit_price,quantity,"
            "discount_pct,payment,date,customer_age,returned\n")
    for _ in range(12000):
        store, region, fmt = r.choices(stores, store_weights)[0]
        product, category, department, price = r.choices(products, product_weights)[0]
        quantity = min(12, 1 + int(r.expovariate(0.8)))
        outlet = fmt == "Outlet"
        discount = 0 if r.random() < (0.45 if outlet else 0.75) else r.choice(range(5, 45, 5))
        method = r.choices(["card", "cash", "mobile"], payment[region])[0]
        day = start + datetime.timedelta(days=int(r.random() * 366))
        age = max(18, min(85, int(r.gauss(41, 13))))
        p_return = 0.06 + 0.004 * discount + (0.12 if category in ("Shoes", "Womenswear") else 0)
        returned = "yes" if r.random() < p_return else "no"
        f.write(f"{store},{region},{fmt},{product},{category},{department},"
                f"{price * (1 - discount / 100):.2f},{quantity},{discount},{method},"
                f"{day.isoformat()},{age},{returned}\n")
