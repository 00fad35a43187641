//! End to end through the binary: train -> inspect -> sample -> read back, and every bad input
//! giving a clear error with a non-zero exit.

use dpsynth::config::DataConfig;
use dpsynth::read::{read_table, Values};

use crate::model_file::tiny_model;
use crate::util::{assert_clean_failure, dpsynth, root, stderr, tempdir};

#[test]
fn inspect_shows_schema_and_privacy() {
    let model = tiny_model();
    let out = dpsynth(root().as_path(), &["inspect", model.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("privacy: none"), "{text}");
    assert!(text.contains("no privacy guarantee"));
    assert!(text.contains("Home") && text.contains("Income"));
    assert!(text.contains("file size"));
}

#[test]
fn sample_csv_and_parquet_with_seed_and_condition() {
    let model = tiny_model();
    let dir = tempdir();
    let m = model.to_str().unwrap();
    let run = |args: &[&str]| {
        let out = dpsynth(dir.path(), args);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stderr(&out).contains("privacy: none"));
    };
    run(&[
        "sample",
        m,
        "-n",
        "2500",
        "-o",
        "a.csv",
        "--seed",
        "9",
        "--chunk-rows",
        "1000",
    ]);
    run(&["sample", m, "-n", "2500", "-o", "b.csv", "--seed", "9"]);
    run(&["sample", m, "-n", "2500", "-o", "c.parquet", "--seed", "9"]);
    run(&[
        "sample",
        m,
        "-n",
        "200",
        "-o",
        "d.csv",
        "--condition",
        "Home=rent",
    ]);

    let a = std::fs::read(dir.path().join("a.csv")).unwrap();
    let b = std::fs::read(dir.path().join("b.csv")).unwrap();
    assert_eq!(
        a, b,
        "the same seed gives the same rows, whatever the chunking"
    );
    // `-o -`: the same CSV on standard output, in chunks, and no file named "-".
    let piped = dpsynth(
        dir.path(),
        &[
            "sample",
            m,
            "-n",
            "2500",
            "-o",
            "-",
            "--seed",
            "9",
            "--chunk-rows",
            "1000",
        ],
    );
    assert!(piped.status.success(), "{}", stderr(&piped));
    assert_eq!(piped.stdout, a, "standard output holds the file's bytes");
    assert!(!dir.path().join("-").exists());

    let real = read_table(
        &root().join("datasets/credit_data.csv"),
        &DataConfig::default(),
    )
    .unwrap();
    let csv = read_table(&dir.path().join("a.csv"), &DataConfig::default()).unwrap();
    let parquet = read_table(&dir.path().join("c.parquet"), &DataConfig::default()).unwrap();
    assert_eq!(csv.n_rows(), 2500);
    assert_eq!(parquet, csv, "CSV and Parquet hold the same rows");
    for (r, s) in real.columns.iter().zip(&csv.columns) {
        assert_eq!(r.name, s.name);
        assert_eq!(r.values.value_type(), s.values.value_type(), "{}", r.name);
    }
    let cond = read_table(&dir.path().join("d.csv"), &DataConfig::default()).unwrap();
    assert_eq!(cond.n_rows(), 200);
    match &cond.column("Home").unwrap().values {
        Values::Text(v) => assert!(v.iter().all(|x| x.as_deref() == Some("rent"))),
        other => panic!("Home should be text, got {other:?}"),
    }
}

#[test]
fn bad_conditions_are_explained() {
    let model = tiny_model();
    let dir = tempdir();
    let m = model.to_str().unwrap();
    let out = dpsynth(
        dir.path(),
        &[
            "sample",
            m,
            "-n",
            "5",
            "-o",
            "x.csv",
            "--condition",
            "Home=castle",
        ],
    );
    assert_clean_failure(&out, &["castle", "Home", "rent"]);
    let out = dpsynth(
        dir.path(),
        &[
            "sample",
            m,
            "-n",
            "5",
            "-o",
            "x.csv",
            "--condition",
            "Nope=1",
        ],
    );
    assert_clean_failure(&out, &["Nope"]);
    let out = dpsynth(
        dir.path(),
        &[
            "sample",
            m,
            "-n",
            "5",
            "-o",
            "x.csv",
            "--condition",
            "Income=3",
        ],
    );
    assert_clean_failure(&out, &["continuous"]);
    assert!(!dir.path().join("x.csv").exists());
    // An output format nobody supports is an error naming the ones that are, not a CSV file
    // under another name.
    for name in ["x.xlsx", "x"] {
        let out = dpsynth(dir.path(), &["sample", m, "-n", "5", "-o", name]);
        assert_clean_failure(&out, &[name, ".csv", ".parquet"]);
        assert!(!dir.path().join(name).exists());
    }
}

/// Writes `contents` to `name` in `dir` and trains on it with a 1-epoch run.
fn train_on(
    dir: &std::path::Path,
    name: &str,
    contents: &str,
    extra: &[&str],
) -> std::process::Output {
    std::fs::write(dir.join(name), contents).unwrap();
    let mut args = vec![
        "train",
        name,
        "--epochs",
        "1",
        "--out",
        "m.dpsynth",
        "--quiet",
    ];
    if !extra.contains(&"--batch-size") {
        args.extend_from_slice(&["--batch-size", "10"]);
    }
    args.extend_from_slice(extra);
    dpsynth(dir, &args)
}

fn rows(header: &str, row: impl Fn(usize) -> String, n: usize) -> String {
    let mut s = format!("{header}\n");
    for i in 0..n {
        s.push_str(&row(i));
        s.push('\n');
    }
    s
}

#[test]
fn bad_tables_give_clear_errors() {
    let dir = tempdir();
    let d = dir.path();
    let out = dpsynth(d, &["train", "missing.csv", "--quiet"]);
    assert_clean_failure(&out, &["missing.csv"]);
    // The operating system's message is given once, not repeated by the error chain.
    let err = crate::util::stderr(&out);
    assert_eq!(err.matches("os error 2").count(), 1, "{err}");
    assert_clean_failure(&train_on(d, "empty.csv", "", &[]), &["empty.csv", "empty"]);
    assert_clean_failure(
        &train_on(d, "header.csv", "a,b,c\n", &[]),
        &["header.csv", "no rows"],
    );
    // A semicolon file is read with semicolons (its header holds no comma); a comma file read
    // with a configured semicolon comes out as one column, and the error says which to set.
    let semicolons = rows("a;b;c", |i| format!("{i};x;{}", i % 3), 30);
    let out = train_on(d, "semi.csv", &semicolons, &[]);
    assert!(out.status.success(), "{}", crate::util::stderr(&out));
    std::fs::remove_file(d.join("m.dpsynth")).unwrap();
    let commas = rows("a,b,c", |i| format!("{i},x,{}", i % 3), 30);
    assert_clean_failure(
        &train_on(d, "comma.csv", &commas, &["--set", "data.delimiter=\";\""]),
        &["comma.csv", "data.delimiter = \",\""],
    );
    let all_null = rows("a,b", |i| format!("{i},"), 30);
    assert_clean_failure(
        &train_on(d, "null.csv", &all_null, &[]),
        &["'b'", "missing"],
    );
    let nan = rows(
        "a,b",
        |i| {
            format!(
                "{}.5,{}",
                i,
                if i == 7 {
                    "NaN".to_string()
                } else {
                    format!("{i}.25")
                }
            )
        },
        30,
    );
    assert_clean_failure(&train_on(d, "nan.csv", &nan, &[]), &["'b'", "NaN"]);
    for (name, token) in [("inf.csv", "inf"), ("neg_inf.csv", "-inf")] {
        let table = rows(
            "a,b",
            |i| {
                format!(
                    "{i}.5,{}",
                    if i == 4 {
                        token.to_string()
                    } else {
                        format!("{i}.25")
                    }
                )
            },
            30,
        );
        assert_clean_failure(
            &train_on(d, name, &table, &[]),
            &["'b'", "row 5", "infinity"],
        );
    }
    assert!(
        !d.join("m.dpsynth").exists(),
        "nothing is written on failure"
    );
}

#[test]
fn bad_configs_give_clear_errors() {
    let dir = tempdir();
    let d = dir.path();
    let table = rows("name,score", |i| format!("n{},{}.5", i % 4, i), 40);
    std::fs::write(d.join("unknown.toml"), "[train]\nepochz = 3\n").unwrap();
    assert_clean_failure(
        &train_on(d, "t.csv", &table, &["--config", "unknown.toml"]),
        &["epochz"],
    );
    std::fs::write(
        d.join("col.toml"),
        "[columns.nosuch]\nkind = \"discrete\"\n",
    )
    .unwrap();
    assert_clean_failure(
        &train_on(d, "t.csv", &table, &["--config", "col.toml"]),
        &["nosuch", "name, score"],
    );
    std::fs::write(
        d.join("forced.toml"),
        "[columns.name]\nkind = \"continuous\"\n",
    )
    .unwrap();
    assert_clean_failure(
        &train_on(d, "t.csv", &table, &["--config", "forced.toml"]),
        &["'name'", "n0"],
    );
    let out = dpsynth(
        d,
        &[
            "train",
            "t.csv",
            "--epochs",
            "1",
            "--batch-size",
            "10",
            "--out",
            "/proc/nope/m.dpsynth",
            "--quiet",
        ],
    );
    assert_clean_failure(&out, &["/proc/nope"]);
}

#[test]
fn constant_and_wide_columns_still_train() {
    let dir = tempdir();
    let d = dir.path();
    // A constant column comes back constant; an ID column with 10,000+ categories works.
    let table = rows(
        "id,const,x",
        |i| format!("id{i},7.5,{}", (i % 17) as f64 * 1.5),
        10_050,
    );
    let out = train_on(d, "wide.csv", &table, &["--batch-size", "500"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = dpsynth(
        d,
        &[
            "sample",
            "m.dpsynth",
            "-n",
            "300",
            "-o",
            "s.csv",
            "--seed",
            "1",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let s = read_table(&d.join("s.csv"), &DataConfig::default()).unwrap();
    match &s.column("const").unwrap().values {
        Values::Float(v) => assert!(v.iter().all(|x| *x == Some(7.5))),
        other => panic!("const should be float, got {other:?}"),
    }
    match &s.column("id").unwrap().values {
        Values::Text(v) => assert!(v
            .iter()
            .all(|x| x.as_deref().is_some_and(|s| s.starts_with("id")))),
        other => panic!("id should be text, got {other:?}"),
    }
}

#[test]
fn a_one_column_table_of_words_trains_and_samples_under_dp() {
    // One column has no pair: the plan's all-pairs noise ratio divided by a pair weight of 0
    // and the file's header held an infinity that JSON writes as null, so `sample` refused
    // the file that `train` had just written.
    let dir = tempdir();
    let d = dir.path();
    let table = rows(
        "color",
        |i| ["red", "green", "blue"][i % 3].to_string(),
        600,
    );
    let dp = [
        "--discover",
        "--epsilon",
        "3",
        "--set",
        "privacy.warm_start_epochs=1",
        "--batch-size",
        "500",
    ];
    let out = train_on(d, "colors.csv", &table, &dp);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = dpsynth(d, &["sample", "m.dpsynth", "-n", "200", "-o", "s.csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let sampled = std::fs::read_to_string(d.join("s.csv")).unwrap();
    let mut lines = sampled.lines();
    assert_eq!(lines.next(), Some("color"));
    let values: Vec<&str> = lines.collect();
    assert_eq!(values.len(), 200);
    for color in ["red", "green", "blue"] {
        let share = values.iter().filter(|v| **v == color).count() as f64 / 200.0;
        assert!((0.15..0.55).contains(&share), "{color}: {share}");
    }
}

#[test]
fn every_shipped_config_parses_and_validates() {
    let mut checked = 0;
    for entry in std::fs::read_dir(root().join("configs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            dpsynth::config::RunConfig::load(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} configs found");
}

/// A table as it arrives, trained from a directory that has no `configs/`: without metadata
/// the refusal names `--discover`; with it, the built-in preset discovers every column under
/// DP at its epsilon 3, and a config file laid over it changes only the keys it sets.
#[test]
fn a_tiny_tables_warm_start_keeps_batches_of_500_surrogate_rows() {
    // Five rows cut the DP batch to 5; the 20,000 surrogate rows of the warm start are not so
    // few: one warm-start epoch is 20,000 / 500 = 40 steps (it was 4,000 of 5 rows each).
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(
        d.join("tiny.csv"),
        "size,flag\n1.5,yes\n2.5,no\n3.5,no\n4.5,yes\n5.5,no\n",
    )
    .unwrap();
    let out = dpsynth(
        d,
        &[
            "train",
            "tiny.csv",
            "--discover",
            "--epochs",
            "1",
            "--set",
            "privacy.warm_start_epochs=1",
            "--out",
            "m.dpsynth",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("warm start: 40 non-private steps on 20000 rows"),
        "{err}"
    );
}

#[test]
fn an_identifier_column_is_named_at_train_time_and_can_be_dropped() {
    // Every customer id and name is rare: discovery folds nearly every row into "other", and
    // the release would sample "other" in every row. Train says so on the terminal, with
    // --quiet too, and names the setting that leaves the column out.
    let dir = tempdir();
    let d = dir.path();
    let table = rows(
        "customer_id,name,age,plan",
        |i| {
            format!(
                "C{},{}{},{},{}",
                100_000 + i,
                ["Ann", "Bob", "Cy"][i % 3],
                i % 997,
                18 + (i * 7) % 60,
                ["basic", "pro", "max"][(i / 3) % 3]
            )
        },
        2000,
    );
    std::fs::write(d.join("ids.csv"), table).unwrap();
    let quick = [
        "--discover",
        "--epochs",
        "1",
        "--set",
        "privacy.warm_start_epochs=1",
        "--quiet",
    ];
    let mut args = vec!["train", "ids.csv", "--out", "m.dpsynth"];
    args.extend_from_slice(&quick);
    let out = dpsynth(d, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    for column in ["customer_id", "name"] {
        assert!(
            err.contains(&format!(
                "warning: {column} is \"other\" in nearly every sampled row"
            )),
            "{err}"
        );
    }
    assert!(err.contains("data.drop=[\"customer_id\"]"), "{err}");
    // A column of three plans holds no rare value: no warning for it.
    assert!(!err.contains("plan"), "{err}");

    let mut args = vec![
        "train",
        "ids.csv",
        "--out",
        "d.dpsynth",
        "--set",
        "data.drop=[\"customer_id\", \"name\"]",
    ];
    args.extend_from_slice(&quick);
    let out = dpsynth(d, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    let out = dpsynth(
        d,
        &["sample", "d.dpsynth", "-n", "5", "-o", "s.csv", "--quiet"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let sampled = std::fs::read_to_string(d.join("s.csv")).unwrap();
    assert_eq!(sampled.lines().next(), Some("age,plan"));
    // Scored against the file it came from: the generator file says which columns training
    // left out; without it the error says to give it.
    let out = dpsynth(
        d,
        &[
            "evaluate",
            "--real",
            "ids.csv",
            "--synthetic",
            "s.csv",
            "--model",
            "d.dpsynth",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = dpsynth(
        d,
        &["evaluate", "--real", "ids.csv", "--synthetic", "s.csv"],
    );
    assert_clean_failure(&out, &["missing customer_id, name", "--model"]);

    let mut args = vec![
        "train",
        "ids.csv",
        "--out",
        "x.dpsynth",
        "--set",
        "data.drop=[\"custid\"]",
    ];
    args.extend_from_slice(&quick);
    let out = dpsynth(d, &args);
    assert_clean_failure(
        &out,
        &["data.drop", "\"custid\"", "ids.csv", "customer_id, name"],
    );
    assert!(!d.join("x.dpsynth").exists());
}

#[test]
fn a_windows_1252_file_is_named_and_read_with_its_encoding() {
    // As a spreadsheet on Windows saves CSV: "Zürich" with 0xFC, "Genève" with 0xE8, a euro
    // sign 0x80. Read as UTF-8 it was "invalid utf-8 sequence; check data.delimiter".
    let dir = tempdir();
    let d = dir.path();
    let mut bytes = b"city,price\n".to_vec();
    for i in 0..300usize {
        let city: &[u8] = [&b"Z\xFCrich"[..], b"Gen\xE8ve", b"Bern"][i % 3];
        bytes.extend_from_slice(city);
        bytes.extend_from_slice(format!(",{}", 10 + i % 40).as_bytes());
        bytes.extend_from_slice(b"\x80\n");
    }
    std::fs::write(d.join("cities.csv"), bytes).unwrap();
    let out = dpsynth(
        d,
        &[
            "train",
            "cities.csv",
            "--epochs",
            "1",
            "--out",
            "m.dpsynth",
            "--quiet",
        ],
    );
    assert_clean_failure(
        &out,
        &[
            "cities.csv",
            "not UTF-8",
            "line 2",
            "data.encoding=\"windows-1252\"",
        ],
    );
    let out = dpsynth(
        d,
        &[
            "train",
            "cities.csv",
            "--epochs",
            "1",
            "--out",
            "m.dpsynth",
            "--quiet",
            "--set",
            "data.encoding=\"windows-1252\"",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = dpsynth(
        d,
        &["sample", "m.dpsynth", "-n", "300", "-o", "s.csv", "--quiet"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let sampled = std::fs::read_to_string(d.join("s.csv")).unwrap();
    assert!(
        sampled.contains("Zürich") && sampled.contains("Genève"),
        "{sampled}"
    );
    // The euro sign is the number's suffix: prices come back as "23€".
    assert!(
        sampled.lines().skip(1).all(|l| l.ends_with('€')),
        "{sampled}"
    );
    let out = dpsynth(
        d,
        &[
            "train",
            "cities.csv",
            "--out",
            "x.dpsynth",
            "--set",
            "data.encoding=\"koi8-r\"",
        ],
    );
    assert_clean_failure(&out, &["data.encoding", "koi8-r", "windows-1252"]);
}

#[test]
fn a_semicolon_file_with_decimal_commas_comes_back_in_kind() {
    // As Python writes a European export: `;` between fields, decimal commas whose places
    // vary (`50,0` beside `47,35`). The amounts were read as text; now they are numbers and
    // the sampled file is written with semicolons and decimal commas, and `evaluate` reads
    // both files.
    let dir = tempdir();
    let d = dir.path();
    let mut csv = String::from("age;group;amount\n");
    for i in 0..400usize {
        let amount = match i % 4 {
            0 => format!("{},0", 40 + i % 30),
            1 => format!("{},35", 40 + i % 25),
            2 => format!("-{},5", 1 + i % 9),
            _ => format!("{}", 45 + i % 20),
        };
        csv.push_str(&format!("{};{};{amount}\n", 20 + i % 50, ["a", "b"][i % 2]));
    }
    std::fs::write(d.join("export.csv"), csv).unwrap();
    let out = dpsynth(
        d,
        &[
            "train",
            "export.csv",
            "--epochs",
            "1",
            "--out",
            "m.dpsynth",
            "--quiet",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = dpsynth(
        d,
        &["sample", "m.dpsynth", "-n", "200", "-o", "s.csv", "--quiet"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let sampled = std::fs::read_to_string(d.join("s.csv")).unwrap();
    let mut lines = sampled.lines();
    assert_eq!(lines.next(), Some("age;group;amount"));
    for line in lines {
        let fields: Vec<&str> = line.split(';').collect();
        assert_eq!(fields.len(), 3, "{line}");
        let amount = fields[2].replace(',', ".");
        assert!(
            amount.parse::<f64>().is_ok() && !fields[2].contains('.'),
            "{line}"
        );
    }
    let out = dpsynth(
        d,
        &[
            "evaluate",
            "--real",
            "export.csv",
            "--synthetic",
            "s.csv",
            "--model",
            "m.dpsynth",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("amount") || stderr(&out).contains("amount")
    );
}

#[test]
fn discover_trains_a_table_without_metadata_from_any_directory() {
    let dir = tempdir();
    let d = dir.path();
    let credit = root().join("datasets/credit_data.csv");
    let table = credit.to_str().unwrap();
    let quick = [
        "--epochs",
        "1",
        "--set",
        "privacy.warm_start_epochs=1",
        "--quiet",
    ];
    let mut args = vec!["train", table, "--epsilon", "3", "--out", "m.dpsynth"];
    args.extend_from_slice(&quick);
    let out = dpsynth(d, &args);
    assert_clean_failure(&out, &["Status", "--discover"]);
    // The one flag comes before the list of lines to write (74 columns' worth on a wide table).
    let err = stderr(&out);
    let flag = err.find("--discover").unwrap();
    let lines = err
        .find("[privacy.columns.")
        .expect("the metadata to write");
    assert!(flag < lines, "{err}");

    let inspect = |model: &str| {
        let out = dpsynth(d, &["inspect", model]);
        assert!(out.status.success(), "{}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let mut args = vec!["train", table, "--discover", "--out", "m.dpsynth"];
    args.extend_from_slice(&quick);
    let out = dpsynth(d, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let ledger = inspect("m.dpsynth");
    assert!(ledger.contains("target 3)"), "{ledger}");
    assert!(
        ledger.contains("categories discovered under DP: Status, Home, Marital, Records, Job"),
        "{ledger}"
    );
    // The preset's pair marginals and warm start are in force.
    assert!(ledger.contains("two-way marginal tables"), "{ledger}");

    std::fs::write(d.join("eps1.toml"), "[privacy]\nepsilon = 1.0\n").unwrap();
    let mut args = vec![
        "train",
        table,
        "--discover",
        "--config",
        "eps1.toml",
        "--out",
        "e1.dpsynth",
    ];
    args.extend_from_slice(&quick);
    let out = dpsynth(d, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let ledger = inspect("e1.dpsynth");
    assert!(ledger.contains("target 1)"), "{ledger}");
    assert!(ledger.contains("two-way marginal tables"), "{ledger}");
}

#[test]
fn a_named_target_keeps_its_pairs_and_is_what_evaluate_scores() {
    let dir = tempdir();
    let d = dir.path();
    let credit = root().join("datasets/credit_data.csv");
    let table = credit.to_str().unwrap();
    let quick = [
        "--discover",
        "--epsilon",
        "1",
        "--epochs",
        "1",
        "--set",
        "privacy.warm_start_epochs=1",
        "--quiet",
    ];
    // A name that is not a column: refused before anything is measured, with the columns.
    let mut args = vec!["train", table, "--target", "status", "--out", "x.dpsynth"];
    args.extend_from_slice(&quick);
    let out = dpsynth(d, &args);
    assert_clean_failure(&out, &["privacy.targets", "'status'", "Status, Seniority"]);
    assert!(!d.join("x.dpsynth").exists());

    let mut args = vec!["train", table, "--target", "Status", "--out", "t.dpsynth"];
    args.extend_from_slice(&quick);
    let out = dpsynth(d, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = dpsynth(d, &["inspect", "t.dpsynth"]);
    let ledger = String::from_utf8_lossy(&out.stdout).into_owned();
    // credit_data's 14 columns at epsilon 1: every pair would be noisy, so Status's 13 pairs
    // and a tree over the other 13 columns (12 rounds).
    assert!(
        ledger.contains("25 two-way marginal tables in the same mechanism, 13 pairs of the target Status and a tree chosen by 12 exponential-mechanism rounds"),
        "{ledger}"
    );
    let out = dpsynth(
        d,
        &["sample", "t.dpsynth", "-n", "400", "-o", "s.csv", "--quiet"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // evaluate scores the model's target without being told.
    let out = dpsynth(
        d,
        &[
            "evaluate",
            "--real",
            table,
            "--synthetic",
            "s.csv",
            "--holdout",
            table,
            "--model",
            "t.dpsynth",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        stdout.contains("target Status, tested on the holdout"),
        "{stdout}"
    );
}

#[test]
fn unwritable_sample_output_is_a_clear_error() {
    let dir = tempdir();
    let d = dir.path();
    let table = rows("a,b", |i| format!("{}.5,x{}", i % 17, i % 3), 60);
    let trained = train_on(d, "t.csv", &table, &[]);
    assert!(
        trained.status.success(),
        "{}",
        crate::util::stderr(&trained)
    );
    // A parent that is a file (root ignores permission bits, so a read-only folder would not
    // stop this test's user), and an output that is an existing folder.
    std::fs::write(d.join("plain"), "not a folder").unwrap();
    std::fs::create_dir(d.join("taken.csv")).unwrap();
    for target in ["plain/out.csv", "taken.csv"] {
        let out = dpsynth(
            d,
            &["sample", "m.dpsynth", "-n", "10", "-o", target, "--quiet"],
        );
        assert_clean_failure(&out, &[target.split('/').next().unwrap()]);
        let err = crate::util::stderr(&out);
        assert_eq!(err.matches("os error").count(), 1, "{err}");
    }
    assert!(
        d.join("taken.csv").is_dir(),
        "the folder in the way is left alone"
    );
    // Nothing half-written is left beside the folder in the way.
    let leftovers: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp") || n.starts_with(".taken"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn sampled_values_keep_the_input_text_form() {
    // credit_data's Income, Assets and Debt are whole amounts stored as floats ("129.0"); a
    // price column has cents; a timestamp column is hourly, written with a trailing Z.
    let dir = tempdir();
    let d = dir.path();
    let table = rows(
        "when,amount,price,kind",
        |i| {
            format!(
                "2013-{:02}-{:02}T{:02}:00:00Z,{}.0,{}.{:02},k{}",
                1 + i % 12,
                1 + i % 28,
                i % 24,
                100 + (i * 37) % 900,
                1 + i % 50,
                (i * 13) % 100,
                i % 3
            )
        },
        240,
    );
    let trained = train_on(d, "t.csv", &table, &["--batch-size", "40"]);
    assert!(
        trained.status.success(),
        "{}",
        crate::util::stderr(&trained)
    );
    let out = dpsynth(
        d,
        &[
            "sample",
            "m.dpsynth",
            "-n",
            "500",
            "-o",
            "s.csv",
            "--seed",
            "3",
            "--quiet",
        ],
    );
    assert!(out.status.success(), "{}", crate::util::stderr(&out));
    let text = std::fs::read_to_string(d.join("s.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("when,amount,price,kind"));
    let mut n = 0;
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        let (when, amount, price) = (cells[0], cells[1], cells[2]);
        // 2013-01-01T10:00:00Z: the input's form, and on the hour like every input value.
        let b = when.as_bytes();
        assert!(
            when.len() == 20 && b[4] == b'-' && b[10] == b'T' && when.ends_with(":00:00Z"),
            "datetime {when:?} is not in the input's hourly form"
        );
        let decimals = |s: &str| s.split_once('.').map_or(0, |(_, f)| f.len());
        assert!(
            amount.ends_with(".0"),
            "amount {amount:?} is not a whole amount"
        );
        assert!(
            decimals(price) <= 2,
            "price {price:?} has more than 2 decimals"
        );
        n += 1;
    }
    assert_eq!(n, 500);
}

#[test]
fn a_condition_is_read_in_the_columns_text_form() {
    // Zero-padded codes with few distinct values are a discrete integer column written in
    // its input's form: a condition written that way ("004") names the category 4.
    let dir = tempdir();
    let d = dir.path();
    let table = rows(
        "code,amount",
        |i| format!("{:03},{}.5", [4, 71, 9][i % 3], 10 + i % 40),
        240,
    );
    let trained = train_on(d, "t.csv", &table, &["--batch-size", "40"]);
    assert!(
        trained.status.success(),
        "{}",
        crate::util::stderr(&trained)
    );
    let out = dpsynth(
        d,
        &[
            "sample",
            "m.dpsynth",
            "-n",
            "50",
            "-o",
            "s.csv",
            "--condition",
            "code=004",
            "--seed",
            "1",
            "--quiet",
        ],
    );
    assert!(out.status.success(), "{}", crate::util::stderr(&out));
    let text = std::fs::read_to_string(d.join("s.csv")).unwrap();
    let codes: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(codes.len(), 50);
    assert!(codes.iter().all(|c| *c == "004"), "{codes:?}");
    // An unknown value lists the known ones as the file writes them.
    let out = dpsynth(
        d,
        &[
            "sample",
            "m.dpsynth",
            "-n",
            "5",
            "-o",
            "u.csv",
            "--condition",
            "code=005",
        ],
    );
    assert_clean_failure(&out, &["code=005", "\"004\"", "\"071\"", "\"009\""]);
}

#[test]
fn calibrated_sampling_follows_the_released_mixtures_and_keeps_the_seed() {
    // A 2-epoch generator's continuous columns are far from their fitted mixtures; with
    // --calibrate each follows its mixture (KS distance of the sampled values against the
    // mixture's cdf), and --seed still gives the same bytes whatever the chunking.
    let model = tiny_model();
    let dir = tempdir();
    let m = model.to_str().unwrap();
    let run = |args: &[&str]| {
        let out = dpsynth(dir.path(), args);
        assert!(out.status.success(), "{}", stderr(&out));
        stderr(&out)
    };
    let n = "6000";
    run(&["sample", m, "-n", n, "-o", "plain.csv", "--seed", "4"]);
    let said = run(&[
        "sample",
        m,
        "-n",
        n,
        "-o",
        "cal.csv",
        "--seed",
        "4",
        "--calibrate",
        "on",
    ]);
    assert!(said.contains("calibrated"), "{said}");
    run(&[
        "sample",
        m,
        "-n",
        n,
        "-o",
        "cal2.csv",
        "--seed",
        "4",
        "--calibrate",
        "on",
        "--chunk-rows",
        "1000",
    ]);
    assert_eq!(
        std::fs::read(dir.path().join("cal.csv")).unwrap(),
        std::fs::read(dir.path().join("cal2.csv")).unwrap()
    );
    let file = dpsynth::export::ModelFile::read(&model).unwrap();
    let transformer = &file.header.transformer;
    let read = |name: &str| read_table(&dir.path().join(name), &DataConfig::default()).unwrap();
    let (plain, cal) = (read("plain.csv"), read("cal.csv"));
    let mut checked = 0;
    for (k, enc) in transformer.encoders.iter().enumerate() {
        let dpsynth::transform::Encoder::Continuous(c) = enc else {
            continue;
        };
        if c.modes.iter().any(|m| m.exact) || c.modes.len() < 2 {
            continue;
        }
        let name = &transformer.schema.columns[k].name;
        let ks = |t: &dpsynth::read::Table| {
            let col = t.columns.iter().find(|col| &col.name == name).unwrap();
            let mut u: Vec<f64> = (0..col.values.len())
                .filter_map(|i| col.values.number(i))
                .map(|x| c.cdf(x))
                .collect();
            u.sort_by(f64::total_cmp);
            let len = u.len() as f64;
            u.iter()
                .enumerate()
                .map(|(i, &v)| {
                    (v - i as f64 / len)
                        .abs()
                        .max((v - (i + 1) as f64 / len).abs())
                })
                .fold(0.0, f64::max)
        };
        let (before, after) = (ks(&plain), ks(&cal));
        assert!(
            after < 0.05,
            "{name}: KS against the mixture {after} (plain {before})"
        );
        assert!(after < before, "{name}: {after} against {before}");
        checked += 1;
    }
    assert!(checked >= 2, "only {checked} columns checked");
    // Each discrete column's categories (and missing values) are drawn at the file's shares:
    // total variation distance against them, before and after (this file: 0.14-0.41 plain,
    // 0.006-0.012 calibrated).
    let mut discrete = 0;
    for (k, enc) in transformer.encoders.iter().enumerate() {
        let dpsynth::transform::Encoder::Discrete(d) = enc else {
            continue;
        };
        let name = &transformer.schema.columns[k].name;
        let total: f64 = d.counts.iter().map(|c| c.max(0.0)).sum();
        let tv = |t: &dpsynth::read::Table| {
            let col = t.columns.iter().find(|col| &col.name == name).unwrap();
            let rows = col.values.len() as f64;
            let share = |slot: &dpsynth::transform::Slot| {
                let hits = (0..col.values.len())
                    .filter(|&i| match (slot, col.values.key(i)) {
                        (dpsynth::transform::Slot::Value(v), Some(key)) => *v == key,
                        (dpsynth::transform::Slot::Null, None) => true,
                        _ => false,
                    })
                    .count();
                hits as f64 / rows
            };
            d.slots
                .iter()
                .zip(&d.counts)
                .filter(|(s, _)| !matches!(s, dpsynth::transform::Slot::Other))
                .map(|(s, c)| (share(s) - c.max(0.0) / total).abs())
                .sum::<f64>()
                / 2.0
        };
        let (before, after) = (tv(&plain), tv(&cal));
        assert!(
            after < 0.02 && after * 5.0 < before,
            "{name}: total variation against the file's shares {after} (plain {before})"
        );
        discrete += 1;
    }
    assert!(discrete >= 3, "only {discrete} discrete columns checked");
}

#[test]
fn inspect_lists_a_files_exact_correlations_without_dp() {
    // A charge that is its minutes times a rate (r 1.00) and an unrelated count: the file of a
    // run without DP holds the pair's exact normal-score correlation, and inspect says so.
    let dir = tempdir();
    let d = dir.path();
    let table = rows(
        "minutes,charge,calls",
        |i| {
            let minutes = 60.0 + ((i * 37) % 241) as f64;
            format!("{minutes:.1},{:.2},{}", minutes * 0.17, (i * 13) % 50)
        },
        600,
    );
    let trained = train_on(d, "t.csv", &table, &["--seed", "3"]);
    assert!(trained.status.success(), "{}", stderr(&trained));
    let out = dpsynth(d, &["inspect", "m.dpsynth"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = text
        .lines()
        .find(|l| l.contains("exact (no DP) normal-score correlations of continuous pairs"))
        .unwrap_or_else(|| panic!("no correlations line: {text}"));
    let rho: f64 = line
        .split("minutes-charge ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no minutes-charge pair: {line}"));
    assert!(rho > 0.95, "{line}");
}
