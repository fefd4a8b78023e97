//! The result of a sweep: named, typed columns of equal length, each value possibly missing
//! (a point that failed has no outputs; an output the model does not know is missing). Rendered
//! as CSV, JSON or Parquet (`crate::parquet`).

use serde_json::{json, Value as Json};

/// One column's values.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// Whole numbers.
    Int(Vec<Option<i64>>),
    /// Real numbers.
    Float(Vec<Option<f64>>),
    /// Text.
    Text(Vec<Option<String>>),
    /// True or false.
    Bool(Vec<Option<bool>>),
}

impl Values {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Values::Int(v) => v.len(),
            Values::Float(v) => v.len(),
            Values::Text(v) => v.len(),
            Values::Bool(v) => v.len(),
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The type's name as Arrow and pandas say it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Values::Int(_) => "int64",
            Values::Float(_) => "float64",
            Values::Text(_) => "string",
            Values::Bool(_) => "bool",
        }
    }

    fn json_at(&self, row: usize) -> Json {
        match self {
            Values::Int(v) => json!(v[row]),
            Values::Float(v) => v[row].map_or(Json::Null, |x| json!(x)),
            Values::Text(v) => json!(v[row]),
            Values::Bool(v) => json!(v[row]),
        }
    }

    fn csv_at(&self, row: usize) -> String {
        match self {
            Values::Int(v) => v[row].map(|x| x.to_string()).unwrap_or_default(),
            Values::Float(v) => v[row].map(|x| x.to_string()).unwrap_or_default(),
            Values::Bool(v) => v[row].map(|x| x.to_string()).unwrap_or_default(),
            Values::Text(v) => v[row].as_deref().map(csv_quote).unwrap_or_default(),
        }
    }
}

/// A named column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The column's name: `point`, an axis's field path, or an output's name.
    pub name: String,
    /// Its values, one per row.
    pub values: Values,
}

/// Columns of equal length.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// The columns, in order.
    pub columns: Vec<Column>,
}

impl Table {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.values.len())
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// CSV with a header row; missing values are empty fields.
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        let names: Vec<String> = self.columns.iter().map(|c| csv_quote(&c.name)).collect();
        out += &names.join(",");
        out.push('\n');
        for row in 0..self.rows() {
            let cells: Vec<String> = self.columns.iter().map(|c| c.values.csv_at(row)).collect();
            out += &cells.join(",");
            out.push('\n');
        }
        out
    }

    /// `{"columns": [{"name", "type"}...], "rows": [{name: value}...]}`.
    pub fn to_json(&self) -> Json {
        let columns: Vec<Json> = self
            .columns
            .iter()
            .map(|c| json!({"name": c.name, "type": c.values.type_name()}))
            .collect();
        let rows: Vec<Json> = (0..self.rows())
            .map(|row| {
                let record: serde_json::Map<String, Json> = self
                    .columns
                    .iter()
                    .map(|c| (c.name.clone(), c.values.json_at(row)))
                    .collect();
                Json::Object(record)
            })
            .collect();
        json!({"columns": columns, "rows": rows})
    }

    /// `{name: [values...]}` in column order, for building a data frame.
    pub fn to_column_json(&self) -> Json {
        let map: serde_json::Map<String, Json> = self
            .columns
            .iter()
            .map(|c| {
                let values = (0..self.rows()).map(|row| c.values.json_at(row)).collect();
                (c.name.clone(), Json::Array(values))
            })
            .collect();
        Json::Object(map)
    }
}

fn csv_quote(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}
