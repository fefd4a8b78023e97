//! `POST /api/infer/fleet`: what a shipped plan's fleet could serve month by month (as
//! `gigawatt infer fleet`), in JSON, or the same HTML report and CSV the CLI writes.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use crate::models::{heavy_slot, kv_bytes, weight_precision};
use crate::{blocking, text_response, ApiError, ApiResult, AppState, FormatQuery};

/// The body of `POST /api/infer/fleet`: the flags of `gigawatt infer fleet`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FleetBody {
    /// A shipped scenario's name (default: the first, the 10 GW LOI).
    #[serde(default)]
    scenario: Option<String>,
    model: String,
    input_tokens: f64,
    output_tokens: f64,
    #[serde(default)]
    ttft_slo_s: Option<f64>,
    #[serde(default)]
    tpot_slo_s: Option<f64>,
    #[serde(default = "default_mode")]
    mode: String,
    #[serde(default = "crate::default_precision")]
    precision: String,
    #[serde(default = "crate::default_precision")]
    kv_precision: String,
    #[serde(default = "default_life_years")]
    life_years: f64,
}

fn default_mode() -> String {
    "server".into()
}

fn default_life_years() -> f64 {
    5.0
}

pub(crate) async fn api_infer_fleet(
    State(state): State<AppState>,
    Query(query): Query<FormatQuery>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body = body?;
    let format = query.format.clone().unwrap_or_else(|| "json".into());
    if !matches!(format.as_str(), "json" | "html" | "csv") {
        return Err(ApiError::bad_request(format!(
            "unknown format `{format}`\n  fix: use format=json, html or csv"
        )));
    }
    let fleet: FleetBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "the request body is not a valid fleet question: {e}\n  fix: send {{\"model\", \"input_tokens\", \"output_tokens\"}} and optionally \"scenario\" (a shipped name), \"ttft_slo_s\", \"tpot_slo_s\", \"mode\", \"precision\", \"kv_precision\", \"life_years\""
        ))
    })?;
    let workload = engine::infer::checked_workload(&engine::infer::TrafficRequest {
        names: engine::infer::FieldNames::Json,
        input_tokens: fleet.input_tokens,
        output_tokens: fleet.output_tokens,
        ttft_slo_s: fleet.ttft_slo_s,
        tpot_slo_s: fleet.tpot_slo_s,
        mode: &fleet.mode,
        disaggregated: false,
        max_batch: None,
        slo_percentile: None,
        draft_tokens: None,
        acceptance_rate: None,
        draft_cost_fraction: None,
    })
    .map_err(ApiError::bad_request)?;
    if !(fleet.life_years >= 0.5 && fleet.life_years <= 30.0) {
        return Err(ApiError::bad_request(format!(
            "`life_years` is {}\n  fix: give the years capex is spread over, from 0.5 to 30",
            fleet.life_years
        )));
    }
    let precision = weight_precision(&fleet.precision)?;
    let kv_bytes = kv_bytes(&fleet.kv_precision)?;
    let scenarios = &state.inner.scenarios;
    let shipped = match &fleet.scenario {
        None => scenarios.first(),
        Some(name) => scenarios.iter().find(|s| &s.name == name),
    }
    .cloned()
    .ok_or_else(|| {
        ApiError::bad_request(format!(
            "no shipped scenario named `{}`\n  fix: one of {}",
            fleet.scenario.as_deref().unwrap_or(""),
            scenarios
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    let slot = heavy_slot(&state)?;
    blocking(&state, move |inner| {
        let _slot = slot;
        let origin = format!("<shipped>/scenarios/{}.toml", shipped.name);
        let plan = engine::plan_text(&inner.catalog, &origin, &shipped.text).map_err(|e| {
            let engine::EngineError::Invalid(d) = e;
            ApiError::bad_request(d.to_string())
        })?;
        let result = engine::infer::fleet_serving(
            &inner.catalog,
            &plan,
            &fleet.model,
            workload,
            precision,
            kv_bytes,
            fleet.life_years,
        )
        .map_err(|m| {
            ApiError::bad_request(format!("{m}\n  fix: {}", engine::train::lookup_fix(&m)))
        })?;
        Ok(match format.as_str() {
            "html" => text_response(
                "text/html; charset=utf-8",
                report::serving::fleet_html(&result, &plan, &fleet.precision),
            ),
            "csv" => text_response(
                "text/csv; charset=utf-8",
                report::serving::fleet_csv(&result),
            ),
            _ => {
                let mut text = serde_json::to_string_pretty(&result)
                    .map_err(|e| ApiError::internal(format!("result: {e}")))?;
                text.push('\n');
                text_response("application/json", text)
            }
        })
    })
    .await?
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use serde_json::json;

    use crate::tests::{app, json_of, send};

    #[tokio::test]
    async fn the_fleet_api_answers_in_json_html_and_csv_and_names_bad_fields() {
        let app = app();
        // The test app ships one scenario, `test` (the default).
        let question = json!({"model": "llama3-70b",
            "input_tokens": 2000, "output_tokens": 500, "tpot_slo_s": 0.05, "precision": "fp8"});
        let (status, body) = send(&app, "POST", "/api/infer/fleet", Some(question.clone())).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let v = json_of(&body);
        assert_eq!(v["model"], "llama3-70b");
        assert!(!v["timeline"].as_array().unwrap().is_empty());
        let (status, html) = send(
            &app,
            "POST",
            "/api/infer/fleet?format=html",
            Some(question.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.starts_with("<!doctype html>") && html.contains("<svg class=\"chart\""));
        let (status, csv) = send(&app, "POST", "/api/infer/fleet?format=csv", Some(question)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(csv.starts_with("month,"), "{csv}");
        let bad = json!({"model": "llama3-7b", "input_tokens": 2000, "output_tokens": 500});
        let (status, body) = send(&app, "POST", "/api/infer/fleet", Some(bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            body.contains("llama3-70b"),
            "a near id is suggested: {body}"
        );
        let unknown = json!({"scenario": "nope", "model": "llama3-70b", "input_tokens": 1, "output_tokens": 1});
        let (status, body) = send(&app, "POST", "/api/infer/fleet", Some(unknown)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains("one of test"), "{body}");
        let (status, page) = send(&app, "GET", "/fleet", None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("id=\"q-model\""));
    }
}
