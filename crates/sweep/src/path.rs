//! Field paths as diagnostics print them (`defaults.pue`, `tranche[2].facility_gw`,
//! `parallelism.tp`, `overrides.accelerator.rubin.bf16_dense_tflops`), and setting a value at
//! one in a parsed TOML document.

use std::fmt;

use toml::Value;

/// One step of a path: a key, or the `index`-th (1-based, as diagnostics count) entry of the
/// array `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Entry(String, usize),
}

/// A parsed field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    text: String,
    steps: Vec<Step>,
}

impl FieldPath {
    /// Parses `a.b[2].c`; entries count from 1.
    pub fn parse(text: &str) -> Result<FieldPath, String> {
        let fix = "write the field as diagnostics print it: `defaults.pue`, `tranche[2].facility_gw` (entries count from 1), `parallelism.tp`";
        if text.trim().is_empty() {
            return Err(format!("the field path is empty\n  fix: {fix}"));
        }
        let mut steps = Vec::new();
        for part in text.split('.') {
            let bad = || format!("`{text}` is not a field path (at `{part}`)\n  fix: {fix}");
            let valid_key = |k: &str| {
                !k.is_empty() && k.chars().all(|c| c.is_alphanumeric() || "_-".contains(c))
            };
            if let Some((key, rest)) = part.split_once('[') {
                let index = rest.strip_suffix(']').ok_or_else(bad)?;
                let index: usize = index.trim().parse().map_err(|_| bad())?;
                if !valid_key(key) {
                    return Err(bad());
                }
                if index == 0 {
                    return Err(format!(
                        "`{text}`: entries count from 1, as diagnostics print them\n  fix: write `{key}[1]` for the first entry"
                    ));
                }
                steps.push(Step::Entry(key.to_string(), index));
            } else if valid_key(part) {
                steps.push(Step::Key(part.to_string()));
            } else {
                return Err(bad());
            }
        }
        Ok(FieldPath {
            text: text.to_string(),
            steps,
        })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Sets `value` at this path in `document`, creating missing tables on the way (a table the
    /// base leaves out, such as `[defaults]`); an entry must exist in the base.
    pub fn set(&self, document: &mut Value, value: Value) -> Result<(), String> {
        let mut here = document;
        let last = self.steps.len() - 1;
        for (i, step) in self.steps.iter().enumerate() {
            let walked = self.walked(i);
            let table = here.as_table_mut().ok_or_else(|| {
                format!(
                    "`{}`: `{walked}` is a value, not a table, in the base input\n  fix: address a field inside a table",
                    self.text
                )
            })?;
            match step {
                Step::Key(key) if i == last => {
                    table.insert(key.clone(), value);
                    return Ok(());
                }
                Step::Key(key) => {
                    here = table
                        .entry(key.clone())
                        .or_insert_with(|| Value::Table(Default::default()));
                }
                Step::Entry(key, index) => {
                    let entries = table.get_mut(key).and_then(Value::as_array_mut);
                    let len = entries.as_ref().map_or(0, |a| a.len());
                    let Some(entry) = entries.and_then(|a| a.get_mut(index - 1)) else {
                        return Err(format!(
                            "`{}`: the base input has {len} `[[{key}]]` entr{}, so there is no `{key}[{index}]`\n  fix: use an index from 1 to {len}",
                            self.text,
                            if len == 1 { "y" } else { "ies" }
                        ));
                    };
                    if i == last {
                        *entry = value;
                        return Ok(());
                    }
                    here = entry;
                }
            }
        }
        Ok(())
    }

    fn walked(&self, upto: usize) -> String {
        let parts: Vec<String> = self.steps[..upto]
            .iter()
            .map(|s| match s {
                Step::Key(k) => k.clone(),
                Step::Entry(k, i) => format!("{k}[{i}]"),
            })
            .collect();
        if parts.is_empty() {
            "the top level".into()
        } else {
            parts.join(".")
        }
    }

    /// The same path with its last key replaced, for "did you mean" on a misspelt key.
    pub fn with_key_at(&self, wrong: &str, right: &str) -> String {
        let parts: Vec<String> = self
            .steps
            .iter()
            .map(|s| match s {
                Step::Key(k) if k == wrong => right.to_string(),
                Step::Key(k) => k.clone(),
                Step::Entry(k, i) if k == wrong => format!("{right}[{i}]"),
                Step::Entry(k, i) => format!("{k}[{i}]"),
            })
            .collect();
        parts.join(".")
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        toml::from_str("[defaults]\npue = 1.2\n[[tranche]]\nfacility_gw = 1.0\n[[tranche]]\nfacility_gw = 2.0\n").unwrap()
    }

    #[test]
    fn sets_keys_entries_and_missing_tables() {
        let mut d = doc();
        FieldPath::parse("tranche[2].facility_gw")
            .unwrap()
            .set(&mut d, Value::Float(3.0))
            .unwrap();
        FieldPath::parse("defaults.pue")
            .unwrap()
            .set(&mut d, Value::Float(1.5))
            .unwrap();
        FieldPath::parse("overrides.accelerator.rubin.bf16_dense_tflops")
            .unwrap()
            .set(&mut d, Value::Integer(9000))
            .unwrap();
        assert_eq!(d["tranche"][1]["facility_gw"].as_float(), Some(3.0));
        assert_eq!(d["tranche"][0]["facility_gw"].as_float(), Some(1.0));
        assert_eq!(d["defaults"]["pue"].as_float(), Some(1.5));
        assert_eq!(
            d["overrides"]["accelerator"]["rubin"]["bf16_dense_tflops"].as_integer(),
            Some(9000)
        );
    }

    #[test]
    fn a_missing_entry_or_a_bad_path_is_an_error_with_a_fix() {
        let mut d = doc();
        let err = FieldPath::parse("tranche[3].facility_gw")
            .unwrap()
            .set(&mut d, Value::Float(1.0))
            .unwrap_err();
        assert!(
            err.contains("has 2 `[[tranche]]` entries") && err.contains("fix:"),
            "{err}"
        );
        let err = FieldPath::parse("defaults.pue.x")
            .unwrap()
            .set(&mut d, Value::Float(1.0))
            .unwrap_err();
        assert!(err.contains("is a value, not a table"), "{err}");
        for bad in ["", "a..b", "tranche[x].a", "tranche[0].a", "a b"] {
            assert!(FieldPath::parse(bad).unwrap_err().contains("fix:"), "{bad}");
        }
    }
}
