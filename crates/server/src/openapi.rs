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
        "description": format!("The {what} as JSON (`input`, optional `origin` naming it in messages) or as the TOML text itself (text/plain). At most 4 MiB."),
        "content": {
            "application/json": { "schema": { "$ref": "#/components/schemas/Input" } },
            "text/plain": { "schema": { "type": "string" } }
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
    let busy = error_response("Too slow (over 30 s) or too many searches at once.");
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "gigawatt",
            "version": engine::ENGINE_VERSION,
            "description": "What does a multi-gigawatt compute commitment deliver? Plans, training estimates, the catalog and saved runs."
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
                "summary": "The whole catalog: sources, accelerators, systems, deals, models, facility defaults, version",
                "responses": { "200": { "description": "The catalog; every number is {value, source}, {unknown} or {not_applicable}" } }
            }},
            "/api/plan": { "post": {
                "summary": "Plan a scenario",
                "parameters": [{ "name": "format", "in": "query", "required": false,
                    "schema": { "type": "string", "enum": ["json", "html", "csv", "md"], "default": "json" } }],
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
                        "precision": { "type": "string", "enum": ["bf16", "fp8", "fp4"] },
                        "top": { "type": "integer", "default": 5 }
                    }
                }}}},
                "responses": {
                    "200": { "description": "The fastest layouts that fit" },
                    "400": bad, "413": too_large,
                    "429": error_response("Searches are already running."),
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
                "name": { "type": "string", "description": "POST /api/runs only: a title" }
            }},
            "RunSummary": { "type": "object", "properties": {
                "id": { "type": "integer" }, "kind": { "type": "string" }, "name": { "type": "string" },
                "origin": { "type": "string" }, "input_hash": { "type": "string" },
                "engine_version": { "type": "string" }, "catalog_version": { "type": "string" },
                "created_unix_ms": { "type": "integer" }
            }}
        }}
    })
}
