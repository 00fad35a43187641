"""Writes a flights-like table for the large-table checks of issue 14 (part 7): 336,776 rows and
19 columns, as the flights table in that issue, with a tail-number column of about 4,000 values.
The values are synthetic (seeded), not real flights: only the shape matters here.

    python3 scripts/make_flights_like.py OUT.csv
"""
import csv
import random
import sys

random.seed(7)
ROWS = 336_776
carriers = [f"C{i:02d}" for i in range(16)]
airports = [f"A{i:03d}" for i in range(105)]
tails = [f"N{i:04d}" for i in range(4000)]
tail_weights = [1.0 / (1 + i) ** 0.6 for i in range(4000)]
with open(sys.argv[1], "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["year", "month", "day", "dep_time", "sched_dep_time", "dep_delay", "arr_time",
                "sched_arr_time", "arr_delay", "carrier", "flight", "tailnum", "origin", "dest",
                "air_time", "distance", "hour", "minute", "time_hour"])
    tail_draw = random.choices(tails, weights=tail_weights, k=ROWS)
    for r in range(ROWS):
        month = random.randint(1, 12)
        day = random.randint(1, 28)
        sched = random.randint(5, 23) * 100 + random.choice([0, 15, 30, 45])
        delay = int(random.expovariate(1 / 12.0)) - 5 if random.random() < 0.97 else None
        dep = None if delay is None else (sched + delay) % 2400
        distance = random.choice([200, 500, 760, 1000, 1400, 2500]) + random.randint(-50, 50)
        air = None if delay is None else int(distance / 8 + random.gauss(0, 10))
        arr_delay = None if delay is None else delay + int(random.gauss(0, 15))
        sched_arr = (sched + distance // 8 + 40) % 2400
        arr = None if arr_delay is None else (sched_arr + arr_delay) % 2400
        origin = random.choice(airports[:3])
        dest = random.choice(airports)
        w.writerow([2013, month, day, dep, sched, delay, arr, sched_arr, arr_delay,
                    random.choice(carriers), random.randint(1, 6000), tail_draw[r], origin, dest,
                    air, distance, sched // 100, sched % 100,
                    f"2013-{month:02d}-{day:02d} {sched // 100:02d}:00:00"])
