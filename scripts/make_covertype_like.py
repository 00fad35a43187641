"""Writes a table shaped like UCI's forest covertype (the CTGAN paper's wide benchmark) with
nothing but the standard library and a fixed seed: 55 columns, written as the UCI file is.

    python3 scripts/make_covertype_like.py OUT.csv [ROWS]   (default 50,000 rows)

Columns: elevation, aspect, slope, horizontal and vertical distances to water, to roads and to
fire points (integers, zero-inflated and skewed, the vertical one of both signs), three
hillshade indices (0-254) computed from aspect and slope by the usual formula, four
wilderness areas and forty soil types as 0/1 indicator columns (one of each group set per
row; soil types 7, 8, 15, 25 and 36 hold a few rows in thousands, as in the real table), and
the cover type (1-7: lodgepole pine 49%, spruce/fir 36%, the rest rare). The cover type
decides the elevation's mode and leans on the wilderness area; the soil type follows the
elevation. Nobody tuned dpsynth for it: it stands in for the real table, which no package
registry bundles (scikit-learn downloads it from UCI)."""
import csv
import math
import os
import random
import sys

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 50000
rng = random.Random(11)

WILDERNESS = [0.45, 0.05, 0.44, 0.06]
# Cover type shares within each wilderness area (types 1..7).
COVER_BY_AREA = [
    [0.40, 0.56, 0.00, 0.00, 0.01, 0.00, 0.03],
    [0.55, 0.30, 0.00, 0.00, 0.00, 0.00, 0.15],
    [0.37, 0.45, 0.06, 0.00, 0.02, 0.04, 0.06],
    [0.00, 0.08, 0.54, 0.09, 0.00, 0.29, 0.00],
]
ELEVATION = [(3130, 150), (2920, 180), (2390, 180), (2220, 100), (2790, 100), (2420, 180),
             (3360, 100)]
# Soil types: a base share (Zipf-like, five nearly empty) and the elevation they sit at.
SOIL_BASE = [1.0 / (1 + (j * 7) % 40) ** 0.9 for j in range(40)]
for rare in (6, 7, 14, 24, 35):
    SOIL_BASE[rare] = 0.0004
SOIL_ELEVATION = [1900 + 1900 * ((j * 13) % 40) / 39 for j in range(40)]


def pick(weights):
    total = sum(weights)
    u = rng.random() * total
    for i, w in enumerate(weights):
        u -= w
        if u <= 0:
            return i
    return len(weights) - 1


def hillshade(aspect, slope, zenith, azimuth):
    z, s = math.radians(zenith), math.radians(slope)
    a = math.radians(azimuth - aspect)
    v = 255 * (math.cos(z) * math.cos(s) + math.sin(z) * math.sin(s) * math.cos(a))
    return max(0, min(254, round(v + rng.gauss(0, 4))))


header = ["Elevation", "Aspect", "Slope", "Horizontal_Distance_To_Hydrology",
          "Vertical_Distance_To_Hydrology", "Horizontal_Distance_To_Roadways", "Hillshade_9am",
          "Hillshade_Noon", "Hillshade_3pm", "Horizontal_Distance_To_Fire_Points"]
header += [f"Wilderness_Area{j + 1}" for j in range(4)]
header += [f"Soil_Type{j + 1}" for j in range(40)]
header += ["Cover_Type"]
rows = []
for _ in range(n):
    area = pick(WILDERNESS)
    cover = pick(COVER_BY_AREA[area])
    mu, sd = ELEVATION[cover]
    elevation = max(1859, min(3858, round(rng.gauss(mu, sd))))
    soil = pick([b * math.exp(-((elevation - e) / 350) ** 2 / 2)
                 for b, e in zip(SOIL_BASE, SOIL_ELEVATION)])
    aspect = round(rng.gauss(45, 50)) % 360 if rng.random() < 0.35 else rng.randrange(360)
    slope = min(66, round(rng.gammavariate(2.6, 5.4)))
    if rng.random() < 0.10:
        hydro = 0
    else:
        hydro = min(1397, round(math.exp(rng.gauss(5.3, 0.8))))
    vertical = round(hydro * rng.gauss(0.18, 0.12) + rng.gauss(0, 18))
    roads = min(7117, round(rng.gammavariate(1.8, 1300 if area != 3 else 500)))
    fire = min(7173, round(0.3 * roads + rng.gammavariate(1.7, 800)))
    h9 = hillshade(aspect, slope, 48, 110)
    noon = hillshade(aspect, slope, 22, 180)
    h3 = hillshade(aspect, slope, 52, 250)
    row = [elevation, aspect, slope, hydro, vertical, roads, h9, noon, h3, fire]
    row += [int(j == area) for j in range(4)]
    row += [int(j == soil) for j in range(40)]
    row += [cover + 1]
    rows.append(row)

tmp = out + ".tmp"
with open(tmp, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(header)
    w.writerows(rows)
os.replace(tmp, out)
