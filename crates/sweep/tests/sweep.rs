//! Sweeps end to end without the CLI: points, shards, outputs, errors.

use catalog::Catalog;
use sweep::{Base, Shard, Sweep, SweepFile, Values};

fn base() -> Base {
    let (name, text) = engine::shipped::SCENARIOS[0];
    Base {
        origin: engine::shipped::origin(name),
        text: text.into(),
    }
}

fn sweep(text: &str) -> Result<Sweep, String> {
    let catalog = Catalog::embedded().unwrap();
    let file = SweepFile::parse("sweep.toml", text).map_err(|d| d.to_string())?;
    Sweep::new(&catalog, file, base()).map_err(|d| d.to_string())
}

const THREE_AXES: &str = r#"
[[axis]]
field = "defaults.pue"
values = [1.1, 1.3]
[[axis]]
field = "tranche[2].facility_gw"
range = { start = 0.5, stop = 1.5, step = 0.5 }
[[axis]]
field = "defaults.electricity_usd_per_kwh"
random = { min = 0.03, max = 0.12, count = 2, seed = 7 }
"#;

#[test]
fn points_are_the_product_of_the_axes_and_each_row_plans_its_values() {
    let catalog = Catalog::embedded().unwrap();
    let s = sweep(THREE_AXES).unwrap();
    assert_eq!(s.points(), 2 * 3 * 2);
    let table = s.run(&catalog, Shard::ALL, &|| {});
    assert_eq!(table.rows(), 12);
    assert_eq!(
        sweep::column_names(&s),
        table
            .columns
            .iter()
            .map(|c| c.name.clone())
            .collect::<Vec<_>>()
    );
    // Row 5 = (pue index 0, gw index 2, price index 1): the last axis varies fastest.
    let Values::Float(pue) = &table.column("defaults.pue").unwrap().values else {
        panic!()
    };
    let Values::Float(gw) = &table.column("tranche[2].facility_gw").unwrap().values else {
        panic!()
    };
    assert_eq!((pue[5], gw[5]), (Some(1.1), Some(1.5)));
    // The facility power total is the sum over tranches: GW 2 moved from 1.0 to 1.5 adds 0.5
    // asked, 0.45 drawn after the power stack's 10% design headroom.
    let Values::Float(total) = &table.column("facility_gw").unwrap().values else {
        panic!()
    };
    let default = engine::plan_text(&catalog, "x", engine::shipped::SCENARIOS[0].1).unwrap();
    let added = total[5].unwrap() - default.totals.facility_gw;
    assert!((added - 0.45).abs() < 0.01, "{added}");
    // A higher PUE means less IT power for the same facility power.
    let Values::Float(it) = &table.column("it_gw").unwrap().values else {
        panic!()
    };
    assert!(it[0].unwrap() > it[6].unwrap());
    let Values::Text(errors) = &table.column("error").unwrap().values else {
        panic!()
    };
    assert!(errors.iter().all(Option::is_none), "{errors:?}");
}

#[test]
fn the_union_of_shards_is_the_whole_sweep() {
    let catalog = Catalog::embedded().unwrap();
    let s = sweep(THREE_AXES).unwrap();
    let whole = s.run(&catalog, Shard::ALL, &|| {});
    let mut rows: Vec<String> = Vec::new();
    for k in 1..=5 {
        let part = s.run(&catalog, Shard::new(k, 5).unwrap(), &|| {});
        rows.extend(part.to_csv().lines().skip(1).map(str::to_string));
    }
    rows.sort_by_key(|r| r.split(',').next().unwrap().parse::<u64>().unwrap());
    let expected: Vec<String> = whole.to_csv().lines().skip(1).map(str::to_string).collect();
    assert_eq!(rows, expected);
}

#[test]
fn the_same_sweep_gives_the_same_bytes_on_one_and_two_threads() {
    let catalog = Catalog::embedded().unwrap();
    let s = sweep(THREE_AXES).unwrap();
    let on = |n| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap();
        pool.install(|| sweep::parquet::write(&s.run(&catalog, Shard::ALL, &|| {}), "t"))
    };
    assert_eq!(on(1), on(2));
}

#[test]
fn a_point_the_engine_refuses_has_its_message_in_the_error_column() {
    let catalog = Catalog::embedded().unwrap();
    let s = sweep("[[axis]]\nfield = \"defaults.pue\"\nvalues = [1.2, 0.5]\n").unwrap();
    let table = s.run(&catalog, Shard::ALL, &|| {});
    let Values::Text(errors) = &table.column("error").unwrap().values else {
        panic!()
    };
    assert!(errors[0].is_none());
    let message = errors[1].as_deref().unwrap();
    assert!(
        message.contains("pue") && message.contains("fix:"),
        "{message}"
    );
    let Values::Float(gw) = &table.column("facility_gw").unwrap().values else {
        panic!()
    };
    assert!(gw[0].is_some() && gw[1].is_none());
}

#[test]
fn an_unknown_field_is_refused_with_did_you_mean() {
    let err = sweep("[[axis]]\nfield = \"defaults.peu\"\nvalues = [1.2]\n").unwrap_err();
    assert!(err.contains("did you mean `defaults.pue`?"), "{err}");
    assert!(err.contains("sweep.toml:2"), "{err}");
    let err = sweep("[[axis]]\nfield = \"default.pue\"\nvalues = [1.2]\n").unwrap_err();
    assert!(err.contains("did you mean `defaults.pue`?"), "{err}");
    let err = sweep("[[axis]]\nfield = \"tranche[40].facility_gw\"\nvalues = [1.2]\n").unwrap_err();
    assert!(
        err.contains("no `tranche[40]`") && err.contains("fix:"),
        "{err}"
    );
}

#[test]
fn empty_axes_and_bad_files_are_refused_with_a_fix() {
    for (text, wanted) in [
        ("[[axis]]\nfield = \"defaults.pue\"\nvalues = []\n", "has no values"),
        ("[[axis]]\nfield = \"defaults.pue\"\nrange = { start = 2, stop = 1, step = 1 }\n", "below range.start"),
        ("[[axis]]\nfield = \"defaults.pue\"\nrandom = { min = 1, max = 2, count = 0, seed = 1 }\n", "count is 0"),
        ("[[axis]]\nfield = \"defaults.pue\"\nvalues = [1, \"a\"]\n", "all numbers"),
        ("[[axis]]\nfield = \"defaults.pue\"\n", "exactly one of"),
        ("kind = \"plan\"\n", "no axes"),
        ("kind = \"plam\"\n[[axis]]\nfield = \"defaults.pue\"\nvalues = [1.2]\n", "did you mean `plan`"),
        ("kind = \"train\"\n[[axis]]\nfield = \"parallelism.tp\"\nvalues = [1]\n", "needs a base spec"),
        ("axes = 1\n", "unknown field"),
    ] {
        let err = sweep(text).unwrap_err();
        assert!(err.contains(wanted) && err.contains("fix:"), "{text}: {err}");
    }
}

#[test]
fn a_sweep_over_its_stated_size_needs_force() {
    let s = sweep("max_points = 10\n[[axis]]\nfield = \"defaults.pue\"\nrange = { start = 1.1, stop = 1.5, count = 11 }\n").unwrap();
    let err = s.check_size(false).unwrap_err().to_string();
    assert!(
        err.contains("11 points, over its limit of 10") && err.contains("--force"),
        "{err}"
    );
    assert!(s.check_size(true).is_ok());
}

#[test]
fn random_axes_are_seeded() {
    let a = sweep("[[axis]]\nfield = \"defaults.pue\"\nrandom = { min = 1.1, max = 1.5, count = 5, seed = 3 }\n").unwrap();
    let b = sweep("[[axis]]\nfield = \"defaults.pue\"\nrandom = { min = 1.1, max = 1.5, count = 5, seed = 3 }\n").unwrap();
    let c = sweep("[[axis]]\nfield = \"defaults.pue\"\nrandom = { min = 1.1, max = 1.5, count = 5, seed = 4 }\n").unwrap();
    assert_eq!(a.file().axes[0].values, b.file().axes[0].values);
    assert_ne!(a.file().axes[0].values, c.file().axes[0].values);
    assert!(a.file().axes[0]
        .values
        .iter()
        .all(|v| (1.1..=1.5).contains(&v.as_float().unwrap())));
}

#[test]
fn a_points_text_is_the_base_document_with_its_values_set() {
    let s = sweep(THREE_AXES).unwrap();
    let (_, base_text) = engine::shipped::SCENARIOS[0];
    for point in [0, 5, 11] {
        let mut expected: toml::Value = toml::from_str(base_text).unwrap();
        for (axis, value) in s.file().axes.iter().zip(s.point_values(point)) {
            axis.field.set(&mut expected, value.clone()).unwrap();
        }
        let got: toml::Value = toml::from_str(&s.point_text(point)).unwrap();
        assert_eq!(got, expected, "point {point}");
    }
}
