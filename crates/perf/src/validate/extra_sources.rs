//! A user's own source families, model facts, recipes and exclusions, read ahead of the
//! shipped `calibration/sources.toml` (`gigawatt train validate --sources FILE`), for runs the
//! shipped families do not describe.

use serde::{Deserialize, Serialize};

use super::sources::{Defaults, Exclusion, Family, ModelFacts, RecipeFacts, Sources};

/// Families, model facts, recipes and exclusions a user adds beside the shipped ones, for
/// runs of their own (`gigawatt train validate --sources FILE`): `calibration/sources.toml`'s
/// schema without `[defaults]`, which stay the shipped file's.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraSources {
    #[serde(default)]
    pub family: Vec<Family>,
    #[serde(default)]
    pub model: Vec<ModelFacts>,
    #[serde(default)]
    pub recipe: Vec<RecipeFacts>,
    #[serde(default)]
    pub exclude: Vec<Exclusion>,
}

impl ExtraSources {
    /// The same checks as the shipped file's ([`Sources::check`]), on these entries alone, so
    /// that an error is the user's file's.
    pub fn check(&self, known: &dyn Fn(&str) -> bool) -> Result<(), String> {
        Sources {
            family: self.family.clone(),
            defaults: Defaults::default(),
            model: self.model.clone(),
            recipe: self.recipe.clone(),
            exclude: self.exclude.clone(),
        }
        .check(known)
    }

    /// Every row id a `[[recipe]]` entry names.
    pub fn recipe_rows(&self) -> impl Iterator<Item = &str> {
        self.recipe
            .iter()
            .flat_map(|r| r.rows.iter().map(String::as_str))
    }
}

impl Sources {
    /// These sources with `extra`'s entries ahead of their own: a user's recipe facts and
    /// model facts win where both name the same row or model (the first entry that sets a
    /// field is read), and a user's family claims the rows whose `source` it prefixes. A
    /// family id these sources already have is refused, so that no family's figures mix two
    /// definitions.
    pub fn with_extra(mut self, extra: ExtraSources) -> Result<Sources, String> {
        for family in &extra.family {
            if self.family.iter().any(|f| f.id == family.id) {
                return Err(format!(
                    "[[family]] id = `{}` is a family calibration/sources.toml already has: \
                     give yours another id (a family is one publication's table)",
                    family.id
                ));
            }
        }
        let ExtraSources {
            mut family,
            mut model,
            mut recipe,
            exclude,
        } = extra;
        family.append(&mut self.family);
        model.append(&mut self.model);
        recipe.append(&mut self.recipe);
        self.family = family;
        self.model = model;
        self.recipe = recipe;
        self.exclude.extend(exclude);
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn family(id: &str, prefix: &str) -> Family {
        Family {
            id: id.into(),
            source_prefix: vec![prefix.into()],
            ..crate::validate::sources::tests::family("fw")
        }
    }

    /// A user's entries are read first: their recipe sets a field for a row the shipped
    /// entries also name, their family claims a source both prefix; the shipped entries fill
    /// the rest. A family id the shipped file has is refused.
    #[test]
    fn extra_sources_are_read_ahead_of_the_shipped_ones() {
        let recipe = |graphs: &str, recompute: Option<&str>| RecipeFacts {
            rows: vec!["r".into()],
            cuda_graphs: Some(graphs.into()),
            recompute: recompute.map(String::from),
            source: "s".into(),
            ..RecipeFacts::default()
        };
        let shipped = Sources {
            family: vec![family("f", "Pub")],
            recipe: vec![recipe("none", Some("full"))],
            ..Sources::default()
        };
        let mine = family("mine", "Pub, mine");
        let extra = ExtraSources {
            family: vec![mine],
            recipe: vec![recipe("full_iteration", None)],
            ..ExtraSources::default()
        };
        let merged = shipped.clone().with_extra(extra.clone()).unwrap();
        let facts = merged.recipe_facts("f", "r");
        assert_eq!(facts.cuda_graphs.as_deref(), Some("full_iteration"));
        assert_eq!(facts.recompute.as_deref(), Some("full"));
        assert_eq!(merged.family_of("Pub, mine: table 1").unwrap().id, "mine");
        assert_eq!(merged.family_of("Pub: table 1").unwrap().id, "f");

        let mut clash = extra;
        clash.family[0].id = "f".into();
        let err = shipped.with_extra(clash).unwrap_err();
        assert!(err.contains("`f`") && err.contains("another id"), "{err}");
    }
}
