//! Prints the serving model's validation: `cargo run -p engine --example infer_check`.
fn main() {
    let catalog = catalog::Catalog::embedded().unwrap();
    let text = include_str!("../../../calibration/inference.csv");
    let cases = include_str!("../../../calibration/serving-cases.toml");
    let v = engine::infer::validate_inference(&catalog, text, cases).unwrap();
    println!("{}", serde_json::to_string_pretty(&v).unwrap());
}
