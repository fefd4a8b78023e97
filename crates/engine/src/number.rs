//! Numbers in scenario files: a plain number (the scenario is its source) or a sourced table.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// A number a scenario gives: `1.2`, or `{ value = 1.2, source = "id", note = "..." }`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioNumber {
    /// The number.
    pub value: f64,
    /// A source id (from the scenario's own `[[source]]` entries or the catalog's), if given.
    pub source: Option<String>,
    /// How it was chosen.
    pub note: Option<String>,
}

impl ScenarioNumber {
    /// A bare number.
    pub fn plain(value: f64) -> ScenarioNumber {
        ScenarioNumber {
            value,
            source: None,
            note: None,
        }
    }
}

impl<'de> Deserialize<'de> for ScenarioNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ScenarioNumber, D::Error> {
        struct NumberVisitor;

        impl<'de> Visitor<'de> for NumberVisitor {
            type Value = ScenarioNumber;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number, or a table `{ value = .., source = \"id\" }`")
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ScenarioNumber, E> {
                Ok(ScenarioNumber::plain(v))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ScenarioNumber, E> {
                Ok(ScenarioNumber::plain(v as f64))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ScenarioNumber, E> {
                Ok(ScenarioNumber::plain(v as f64))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ScenarioNumber, A::Error> {
                let mut value = None;
                let mut source = None;
                let mut note = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "value" => value = Some(map.next_value::<NumberOnly>()?.0),
                        "source" => source = Some(map.next_value::<String>()?),
                        "note" => note = Some(map.next_value::<String>()?),
                        other => {
                            return Err(de::Error::unknown_field(
                                other,
                                &["value", "source", "note"],
                            ))
                        }
                    }
                }
                let value = value.ok_or_else(|| de::Error::missing_field("value"))?;
                Ok(ScenarioNumber {
                    value,
                    source,
                    note,
                })
            }
        }

        deserializer.deserialize_any(NumberVisitor)
    }
}

/// A bare number (integer or float).
struct NumberOnly(f64);

impl<'de> Deserialize<'de> for NumberOnly {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<NumberOnly, D::Error> {
        struct OnlyVisitor;
        impl Visitor<'_> for OnlyVisitor {
            type Value = NumberOnly;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<NumberOnly, E> {
                Ok(NumberOnly(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<NumberOnly, E> {
                Ok(NumberOnly(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<NumberOnly, E> {
                Ok(NumberOnly(v as f64))
            }
        }
        deserializer.deserialize_any(OnlyVisitor)
    }
}
