//! A one-tranche question from the command line, turned into scenario text so that flags and
//! files share one validation path.

/// A one-tranche question from the command line:
/// `gigawatt plan --system gb200-nvl72 --facility-gw 1.2`.
#[derive(Debug, Clone, Default)]
pub struct QuickPlan {
    /// System id.
    pub system: String,
    /// Facility power, GW.
    pub facility_gw: Option<f64>,
    /// Count of systems (instead of power).
    pub systems: Option<f64>,
    /// PUE.
    pub pue: Option<f64>,
    /// First month online.
    pub start: Option<String>,
    /// Months to full build.
    pub ramp_months: Option<f64>,
    /// Price per system, USD.
    pub price_usd: Option<f64>,
    /// USD per kWh.
    pub electricity_usd_per_kwh: Option<f64>,
    /// Average IT power drawn / nameplate.
    pub utilization: Option<f64>,
    /// Last month of the timeline.
    pub end: Option<String>,
    /// IT power per system, kW, where the catalog has none or you know better.
    pub it_power_kw: Option<f64>,
    /// What the plan is, in words (default: "One tranche from the command line").
    pub description: Option<String>,
    /// Why `ramp_months` has its value, when it is a default rather than a flag: recorded in
    /// the assumptions ledger beside it.
    pub ramp_note: Option<String>,
    /// Further scenario tables (overrides and their sources) appended as they are.
    pub extra_toml: Option<String>,
}

impl QuickPlan {
    /// The equivalent scenario file, so that flags and files share one validation path.
    pub fn to_scenario_text(&self) -> String {
        let mut text = String::from("name = \"Quick plan\"\n");
        let description = self
            .description
            .as_deref()
            .unwrap_or("One tranche from the command line");
        text += &format!("description = {}\n", toml_string(description));
        if let Some(end) = &self.end {
            text += &format!("end = {}\n", toml_string(end));
        }
        if let Some(price) = self.price_usd {
            text += &format!("[prices]\n{} = {price:?}\n", toml_string(&self.system));
        }
        if let Some(power) = self.it_power_kw {
            text += &format!(
                "[overrides.system.{}]\nit_power_kw = {power:?}\n",
                toml_string(&self.system)
            );
        }
        text += "[[tranche]]\n";
        text += &format!("name = {}\n", toml_string(&self.system));
        text += &format!("system = {}\n", toml_string(&self.system));
        // Months default to the system's first availability when not given.
        if let Some(start) = &self.start {
            text += &format!("start = {}\n", toml_string(start));
        }
        if let (Some(ramp), Some(note)) = (self.ramp_months, &self.ramp_note) {
            text += &format!(
                "ramp_months = {{ value = {ramp:?}, note = {} }}\n",
                toml_string(note)
            );
        }
        let ramp_flag = self.ramp_months.filter(|_| self.ramp_note.is_none());
        for (key, value) in [
            ("facility_gw", self.facility_gw),
            ("systems", self.systems),
            ("pue", self.pue),
            ("ramp_months", ramp_flag),
            ("electricity_usd_per_kwh", self.electricity_usd_per_kwh),
            ("utilization", self.utilization),
        ] {
            if let Some(value) = value {
                text += &format!("{key} = {value:?}\n");
            }
        }
        if let Some(extra) = &self.extra_toml {
            text += "\n";
            text += extra;
        }
        text
    }
}

fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out += "\\\"",
            '\\' => out += "\\\\",
            c if c.is_control() => out += &format!("\\u{:04x}", c as u32),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
