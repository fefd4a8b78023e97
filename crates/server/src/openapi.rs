//! The OpenAPI 3.1 description of the JSON API, written by hand (a test checks that every
//! route in the router is in it, and that every path in it is routed).

use serde_json::{json, Value};

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    })
}

fn input_body(what: &str) -> Value {
    json!({
        "required": true,
        "description": format!("The {what} as JSON (`input`, optional `origin` naming it in messages) or as the TOML text itself (application/toml; text/plain and form types are refused with 415, so that a cross-site form cannot send it). At most 4 MiB."),
        "content": {
            "application/json": { "schema": { "$ref": "#/components/schemas/Input" } },
            "application/toml": { "schema": { "type": "string" } }
        }
    })
}

fn id_param() -> Value {
    json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "integer", "minimum": 1 } })
}

/// The document served at `/api/openapi.json`.
pub fn document() -> Value {
    let bad = error_response("Bad input: the message is the CLI's (file:line:col, field, fix).");
    let too_large = error_response("The body is over 4 MiB.");
    let missing = error_response("No run with this id.");
    let busy = error_response("Too slow (over 30 s).");
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "gigawatt",
            "version": engine::ENGINE_VERSION,
            "description": "What does a multi-gigawatt compute commitment deliver? Plans, training and serving estimates, reliability simulations, deal risk, the catalog and saved runs. Every request needs a Host naming this server (403 otherwise); a POST needs Content-Type application/json (or application/toml where a TOML body is accepted; 415 otherwise) and no Origin but the server's own (403); a server started with a token (always, beyond loopback) needs `Authorization: Bearer TOKEN` on every request but /healthz (401). Saves beyond the store's limits get 413 (size) or 409 (count); bodies slower than the body timeout get 408."
        },
        "paths": {
            "/healthz": { "get": {
                "summary": "Liveness, with the engine and catalog versions",
                "responses": { "200": { "description": "OK" } }
            }},
            "/api/openapi.json": { "get": {
                "summary": "This document",
                "responses": { "200": { "description": "OpenAPI 3.1" } }
            }},
            "/api/scenarios": { "get": {
                "summary": "The shipped scenarios: name, title, TOML text",
                "responses": { "200": { "description": "A list" } }
            }},
            "/api/catalog": { "get": {
                "summary": "The whole catalog: sources, accelerators, systems, deals, models, facility defaults, sites (power by phase, last search), claims (figures sources disagree on), version",
                "responses": { "200": { "description": "The catalog; every number is {value, source}, {unknown} or {not_applicable}" } }
            }},
            "/api/deals": { "get": {
                "summary": "Every deal's timeline (events oldest first, each with the status it leads to) and the catalog's knowledge cut-off, as `gigawatt deals --format json`",
                "responses": { "200": { "description": "{catalog_version, knowledge_cutoff, on, deals: [{deal, name, status, events}], withheld}" } }
            }},
            "/api/plan": { "post": {
                "summary": "Plan a scenario, with ranges (p10/p50/p90 beside totals, as `gigawatt plan`)",
                "description": "Ranges sample the ranged catalog figures; draws x tranche-months are capped at 5,000,000 (fewer draws, or none below 100, with a warning in `warnings`); ranges are cached per scenario, catalog, draws and seed. `draws`, `seed` and `no_ranges` may also be JSON body fields (the body wins).",
                "parameters": [{ "name": "format", "in": "query", "required": false,
                    "schema": { "type": "string", "enum": ["json", "html", "csv", "md"], "default": "json" } },
                    { "name": "draws", "in": "query", "required": false,
                      "schema": { "type": "integer", "minimum": 1, "maximum": 10000, "default": 1000 } },
                    { "name": "seed", "in": "query", "required": false,
                      "schema": { "type": "integer", "minimum": 0, "default": 0 } },
                    { "name": "no_ranges", "in": "query", "required": false,
                      "schema": { "type": "boolean", "default": false } }],
                "requestBody": input_body("scenario"),
                "responses": {
                    "200": { "description": "The plan (json: the PlanResult schema of `gigawatt plan --format json`; html: the self-contained report)" },
                    "400": bad, "413": too_large, "503": busy
                }
            }},
            "/api/train": { "post": {
                "summary": "Evaluate a training spec",
                "parameters": [{ "name": "format", "in": "query", "required": false,
                    "schema": { "type": "string", "enum": ["json", "html"], "default": "json" } }],
                "requestBody": input_body("training spec"),
                "responses": {
                    "200": { "description": "The TrainResult (as `gigawatt train --format json`), or an HTML fragment with a chart" },
                    "400": bad, "413": too_large, "503": busy
                }
            }},
            "/api/train/search": { "post": {
                "summary": "Search parallel layouts (bounded: gpus <= 1,048,576, top <= 50, 2 searches at once)",
                "requestBody": { "required": true, "content": { "application/json": { "schema": {
                    "type": "object", "required": ["model", "system", "gpus", "global_batch", "seq_len"],
                    "properties": {
                        "model": { "type": "string" }, "system": { "type": "string" },
                        "gpus": { "type": "integer" }, "global_batch": { "type": "integer" },
                        "seq_len": { "type": "integer" },
                        "precision": { "type": "string", "default": "bf16", "enum": ["bf16", "fp8", "fp4", "fp8-delayed", "fp8-current", "fp8-blockwise", "mxfp8", "nvfp4", "mxfp4"] },
                        "top": { "type": "integer", "default": 5 }
                    }
                }}}},
                "responses": {
                    "200": { "description": "The fastest layouts that fit" },
                    "400": bad, "413": too_large,
                    "429": error_response("Two searches or simulations are already running."),
                    "503": busy
                }
            }},
            "/api/runs": {
                "get": {
                    "summary": "Saved runs, newest first",
                    "parameters": [
                        { "name": "kind", "in": "query", "required": false, "schema": { "type": "string", "enum": ["plan", "train"] } },
                        { "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "default": 100, "maximum": 1000 } }
                    ],
                    "responses": { "200": { "description": "A list of RunSummary", "content": { "application/json": { "schema": {
                        "type": "array", "items": { "$ref": "#/components/schemas/RunSummary" } } } } } }
                },
                "post": {
                    "summary": "Run and save: the server computes the result and stores it with the input, engine and catalog versions and the input hash",
                    "requestBody": input_body("scenario (kind plan) or spec (kind train); JSON adds `kind` and `name`"),
                    "responses": {
                        "201": { "description": "Saved: {run: RunSummary, page}" },
                        "400": bad, "413": too_large, "503": busy
                    }
                }
            },
            "/api/runs/compare": { "get": {
                "summary": "Compare two runs: a line diff of the inputs and the key outputs side by side",
                "parameters": [
                    { "name": "a", "in": "query", "required": true, "schema": { "type": "integer" } },
                    { "name": "b", "in": "query", "required": true, "schema": { "type": "integer" } }
                ],
                "responses": { "200": { "description": "{a, b, same_input, input_diff, outputs}" }, "400": bad, "404": missing }
            }},
            "/api/runs/{id}": {
                "get": {
                    "summary": "One run: its summary, input text and result",
                    "parameters": [id_param()],
                    "responses": { "200": { "description": "The run" }, "404": missing }
                },
                "delete": {
                    "summary": "Delete a run",
                    "parameters": [id_param()],
                    "responses": { "204": { "description": "Deleted" }, "404": missing }
                }
            },
            "/api/runs/{id}/verify": { "get": {
                "summary": "Rerun a saved run's input now and say whether it gives the same result",
                "parameters": [id_param()],
                "responses": { "200": { "description": "{reproduces, input_hash_matches, stored and current versions, error}" }, "404": missing }
            }}
        },
        "components": { "schemas": {
            "Error": { "type": "object", "required": ["error"], "properties": {
                "error": { "type": "string", "description": "The message the CLI prints after `error: `" },
                "diagnostics": { "type": "array", "items": { "type": "object", "properties": {
                    "file": { "type": "string" }, "line": { "type": ["integer", "null"] },
                    "column": { "type": ["integer", "null"] }, "field": { "type": ["string", "null"] },
                    "message": { "type": "string" }, "hint": { "type": ["string", "null"] } } } }
            }},
            "Input": { "type": "object", "required": ["input"], "properties": {
                "input": { "type": "string", "description": "TOML text (aliases: scenario, spec)" },
                "origin": { "type": "string", "description": "The name messages give the input" },
                "kind": { "type": "string", "enum": ["plan", "train"], "description": "POST /api/runs only" },
                "name": { "type": "string", "description": "POST /api/runs only: a title" },
                "draws": { "type": "integer", "minimum": 1, "maximum": 10000, "description": "POST /api/plan only: draws of the ranges (default 1,000)" },
                "seed": { "type": "integer", "minimum": 0, "description": "POST /api/plan only: seed of the draws (default 0)" },
                "no_ranges": { "type": "boolean", "description": "POST /api/plan only: central values without ranges" }
            }},
            "RunSummary": { "type": "object", "properties": {
                "id": { "type": "integer" }, "kind": { "type": "string" }, "name": { "type": "string" },
                "origin": { "type": "string" }, "input_hash": { "type": "string" },
                "engine_version": { "type": "string" }, "catalog_version": { "type": "string" },
                "created_unix_ms": { "type": "integer" }
            }}
        }}
    });
    if let (Some(paths), Value::Object(more)) = (doc["paths"].as_object_mut(), model_paths()) {
        paths.extend(more);
    }
    doc
}

/// The serving, reliability and risk endpoints (a second `json!`, to stay under the macro's
/// recursion limit).
fn model_paths() -> Value {
    let bad = error_response("Bad input: the message is the CLI's (file:line:col or flag, fix).");
    let too_large = error_response("The body is over 4 MiB.");
    let busy = error_response("Too slow (over 30 s).");
    json!({
            "/api/infer": { "post": {
                "summary": "Evaluate a serving spec (as `gigawatt infer --spec FILE`)",
                "parameters": [{ "name": "format", "in": "query", "required": false,
                    "schema": { "type": "string", "enum": ["json", "html"], "default": "json" } }],
                "requestBody": input_body("serving spec"),
                "responses": {
                    "200": { "description": "The InferResult (as `gigawatt infer --spec FILE --format json`), or an HTML fragment with the result table" },
                    "400": bad, "413": too_large, "503": busy
                }
            }},
            "/api/infer/fleet": { "post": {
                "summary": "What a shipped plan's fleet could serve, month by month (as `gigawatt infer fleet`; 2 heavy requests at once)",
                "parameters": [{ "name": "format", "in": "query", "required": false,
                    "schema": { "type": "string", "enum": ["json", "html", "csv"], "default": "json" } }],
                "requestBody": { "required": true, "content": { "application/json": { "schema": {
                    "type": "object", "required": ["model", "input_tokens", "output_tokens"],
                    "properties": {
                        "scenario": { "type": "string", "description": "a shipped scenario's name; default the first (openai-nvidia-10gw)" },
                        "model": { "type": "string" },
                        "input_tokens": { "type": "number", "minimum": 1 },
                        "output_tokens": { "type": "number", "minimum": 1 },
                        "ttft_slo_s": { "type": "number", "exclusiveMinimum": 0 },
                        "tpot_slo_s": { "type": "number", "exclusiveMinimum": 0 },
                        "mode": { "type": "string", "enum": ["server", "offline"], "default": "server" },
                        "precision": { "type": "string", "enum": ["bf16", "fp8", "fp4"], "default": "bf16" },
                        "kv_precision": { "type": "string", "enum": ["bf16", "fp8"], "default": "bf16" },
                        "life_years": { "type": "number", "minimum": 0.5, "maximum": 30, "default": 5 }
                    } } } } },
                "responses": {
                    "200": { "description": "The FleetServing result (as `gigawatt infer fleet --format json`), the HTML report or the monthly CSV" },
                    "400": bad, "413": too_large,
                    "429": error_response("Two searches or simulations are already running."),
                    "503": busy
                }
            }},
            "/api/infer/search": { "post": {
                "summary": "Search serving layouts (as `gigawatt infer search`; top <= 50, 2 heavy requests at once)",
                "parameters": [{ "name": "format", "in": "query", "required": false,
                    "schema": { "type": "string", "enum": ["json", "html"], "default": "json" } }],
                "requestBody": { "required": true, "content": { "application/json": { "schema": {
                    "type": "object", "required": ["model", "system", "input_tokens", "output_tokens"],
                    "properties": {
                        "model": { "type": "string" }, "system": { "type": "string" },
                        "input_tokens": { "type": "number", "minimum": 1, "maximum": 10000000 },
                        "output_tokens": { "type": "number", "minimum": 1, "maximum": 10000000 },
                        "ttft_slo_s": { "type": "number", "exclusiveMinimum": 0 },
                        "tpot_slo_s": { "type": "number", "exclusiveMinimum": 0 },
                        "mode": { "type": "string", "enum": ["server", "offline"], "default": "server" },
                        "disaggregated": { "type": "boolean", "default": false },
                        "max_batch": { "type": "integer", "minimum": 1, "maximum": 65536, "description": "the serving engine's batch limit per attention rank" },
                        "slo_percentile": { "type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100, "default": 99, "description": "server mode: the percentile of requests the latency targets hold for (Poisson arrivals)" },
                        "draft_tokens": { "type": "integer", "minimum": 0, "maximum": 16, "description": "speculative decoding: tokens drafted per sequence per step" },
                        "acceptance_rate": { "type": "number", "minimum": 0, "maximum": 1, "description": "speculative decoding: probability a drafted token is accepted" },
                        "draft_cost_fraction": { "type": "number", "exclusiveMinimum": 0, "maximum": 1, "description": "speculative decoding: cost of one drafted token relative to a decode step (default: one layer, as an MTP module)" },
                        "precision": { "type": "string", "enum": ["bf16", "fp8", "fp4"], "default": "bf16" },
                        "kv_precision": { "type": "string", "enum": ["bf16", "fp8"], "default": "bf16" },
                        "top": { "type": "integer", "default": 5, "maximum": 50 }
                    }
                }}}},
                "responses": {
                    "200": { "description": "{evaluated, top: [InferResult]}, best first; or an HTML fragment" },
                    "400": bad, "413": too_large,
                    "429": error_response("Two searches or simulations are already running."),
                    "503": busy
                }
            }},
            "/api/reliability": { "post": {
                "summary": "Simulate failures, checkpoints and restarts of one training job (as `gigawatt reliability`; gpus <= 10,000,000, runs <= 100, a window of at most 3,650 days, an expected 30,000,000 simulation events at most, search included; a request that times out is cancelled)",
                "parameters": [{ "name": "format", "in": "query", "required": false,
                    "schema": { "type": "string", "enum": ["json", "html"], "default": "json" } }],
                "requestBody": { "required": true, "content": { "application/json": { "schema": {
                    "type": "object", "required": ["gpus"],
                    "description": "The flags of `gigawatt reliability`, with _ for -; `days` or `work_hours` is required. Empty fields take the sourced defaults.",
                    "properties": {
                        "gpus": { "type": "number" }, "days": { "type": "number" },
                        "work_hours": { "type": "number", "maximum": 876000 },
                        "system": { "type": "string", "default": "dgx-h100" },
                        "checkpoint_interval_min": { "type": "number" },
                        "checkpoint_write_s": { "type": "number" },
                        "async_checkpoint": { "type": "boolean", "default": false },
                        "restart_min": { "type": "number" }, "detection_min": { "type": "number" },
                        "repair_hours": { "type": "number" }, "spares": { "type": "number" },
                        "node_failures_per_1000_days": { "type": "number", "maximum": 1000 },
                        "planned_per_day": { "type": "number", "minimum": 0, "maximum": 24 },
                        "weibull_shape": { "type": "number", "minimum": 0.2, "maximum": 10 },
                        "runs": { "type": "number", "default": 20, "maximum": 100 },
                        "seed": { "type": "integer", "default": 1 },
                        "no_search": { "type": "boolean", "default": false }
                    }
                }}}},
                "responses": {
                    "200": { "description": "The report of `gigawatt reliability --format json` (ettr, unexpected_interruptions, mtti_hours, optimal_checkpoint_interval_min (null with no_search), by_cause, lost_hours, assumptions, sources, ...), or an HTML fragment" },
                    "400": bad, "413": too_large,
                    "429": error_response("Two searches or simulations are already running."),
                    "503": busy
                }
            }},
            "/api/risk": { "post": {
                "summary": "Monte Carlo over a portfolio of deals (as `gigawatt risk`; samples <= 200,000)",
                "parameters": [{ "name": "format", "in": "query", "required": false,
                    "schema": { "type": "string", "enum": ["json", "html", "csv"], "default": "json" } }],
                "requestBody": { "required": false, "content": { "application/json": { "schema": {
                    "type": "object",
                    "description": "Every field is optional; an empty body runs the shipped portfolio. The portfolio's plan must be a shipped scenario (the server reads no files).",
                    "properties": {
                        "portfolio_text": { "type": "string", "description": "The portfolio TOML (default: the shipped openai-portfolio-risk)" },
                        "input": { "type": "string", "description": "The same as portfolio_text (the name the other endpoints give their TOML); give one of the two" },
                        "origin": { "type": "string", "description": "The name messages give the portfolio (default portfolio.toml)" },
                        "samples": { "type": "integer", "default": 2000, "minimum": 1, "maximum": 200000, "description": "The file's `samples` is not used here" },
                        "seed": { "type": "integer", "minimum": 0, "description": "Default: the file's, else 1" },
                        "at_least_gw": { "type": "number", "description": "With `by`: P(at least this facility GW online)" },
                        "by": { "type": "string", "description": "YYYY-MM, with `at_least_gw`" }
                    }
                }}}},
                "responses": {
                    "200": { "description": "The result of `gigawatt risk --format json` (elapsed_s is 0), the self-contained HTML report, or the CSV" },
                    "400": bad, "413": too_large,
                    "429": error_response("Two searches or simulations are already running."),
                    "503": busy
                }
            }}
    })
}
