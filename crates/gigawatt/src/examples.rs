//! Examples shown at the end of every command's `--help` (and `-h`): each one is a command a
//! new user can paste as it stands, with a comment that says what it answers. A CLI test runs
//! every command's help and checks that it ends in examples (tests/help.rs).

pub const ROOT: &str = "\
Examples:
  gigawatt plan                                  # the OpenAI-NVIDIA 10 GW letter of intent
  gigawatt plan --system gb200-nvl72 --facility-gw 1.2   # what 1.2 GW of GB200 NVL72 buys
  gigawatt catalog list                          # systems, accelerators, models and deals
  gigawatt risk                                  # the odds that the deals deliver
  gigawatt serve                                 # the dashboard at http://127.0.0.1:8080";

pub const PLAN: &str = "\
Examples:
  gigawatt plan                                        # the 10 GW LOI as announced
  gigawatt plan openai-portfolio --format html --out portfolio.html
  gigawatt plan my-scenario.toml --format json | jq .totals
  gigawatt plan --system gb200-nvl72 --facility-gw 1.2 --pue 1.2 --start 2026-01
  gigawatt plan --system dgx-h100 --systems 2048 --format csv";

pub const CATALOG: &str = "\
Examples:
  gigawatt catalog list                          # systems, accelerators, models and deals
  gigawatt catalog show gb200-nvl72              # one entry, every number with its source
  gigawatt catalog sources                       # every source with its URL
  gigawatt catalog validate --catalog my-catalog/   # check your own catalog files";

pub const CATALOG_LIST: &str = "\
Examples:
  gigawatt catalog list                          # systems, accelerators, models and deals
  gigawatt catalog list --all                    # the same, then every source
  gigawatt catalog list --kind systems           # one kind only
  gigawatt catalog list --kind deals --format json";

pub const CATALOG_SHOW: &str = "\
Examples:
  gigawatt catalog show gb200-nvl72              # a system
  gigawatt catalog show h100-sxm                 # an accelerator
  gigawatt catalog show openai-nvidia-loi        # a deal
  gigawatt catalog show facility                 # the planning defaults (PUE, prices, ...)";

pub const CATALOG_SOURCES: &str = "\
Examples:
  gigawatt catalog sources
  gigawatt catalog sources --format json | jq .default_plan.figures.by_standing
  gigawatt catalog validate --strict             # also fail on sources missing publisher, date read or excerpt";

pub const CATALOG_VALIDATE: &str = "\
Examples:
  gigawatt catalog validate                      # the shipped catalog
  gigawatt catalog validate --catalog my-catalog/   # with your files (exit 2 on problems)";

pub const SCENARIOS: &str = "\
Examples:
  gigawatt scenarios                             # names and descriptions
  gigawatt plan openai-portfolio                 # plan one of them by name";

pub const INFER: &str = "\
Examples:
  gigawatt infer --spec serve.toml                      # one layout
  gigawatt infer search --model llama3-70b --system dgx-h100 --input-tokens 2000 \\
      --output-tokens 500 --tpot-slo-s 0.05 --ttft-slo-s 2     # the best layout
  gigawatt infer fleet openai-portfolio --model llama3-70b \\
      --input-tokens 2000 --output-tokens 500 --tpot-slo-s 0.05  # what a plan could serve
  gigawatt infer validate                               # against published serving results";

pub const INFER_SEARCH: &str = "\
Examples:
  gigawatt infer search --model llama3-70b --system dgx-h100 --input-tokens 2000 \\
      --output-tokens 500 --tpot-slo-s 0.05 --ttft-slo-s 2
  gigawatt infer search --model llama3-70b --system gb200-nvl72 --input-tokens 2000 \\
      --output-tokens 500 --mode offline --top 3 --format json
  gigawatt infer search --model llama3-70b --system dgx-h100 --profile sharegpt \\
      --prefix-hit-rate 0.3 --tpot-slo-s 0.05 --ttft-slo-s 2   # lengths by bin, cache hits";

pub const INFER_FLEET: &str = "\
Examples:
  gigawatt infer fleet --model llama3-70b --input-tokens 2000 --output-tokens 500 \\
      --tpot-slo-s 0.05                              # the default plan (the 10 GW LOI)
  gigawatt infer fleet openai-portfolio --model llama3-70b --input-tokens 2000 \\
      --output-tokens 500 --tpot-slo-s 0.05 --out fleet.html   # a report with charts
  gigawatt infer fleet openai-portfolio --mix llama3-70b=0.5,deepseek-v3=0.3,llama3-8b=0.2 \\
      --profile sharegpt --peak-to-mean 1.6 --tpot-slo-s 0.05   # a model mix, judged at peak";

pub const INFER_VALIDATE: &str = "\
Examples:
  gigawatt infer validate                        # the model against published serving results
  gigawatt infer validate --format json";

pub const SERVE: &str = "\
Examples:
  gigawatt serve                         # http://127.0.0.1:8080
  gigawatt serve --port 0 --data runs/   # a free port; saved runs in runs/runs.sqlite3";

pub const TRAIN: &str = "\
Examples:
  gigawatt train --spec my-run.toml                 # one layout: step time, MFU, memory
  gigawatt train search --model llama3-405b --system dgx-h100 --gpus 16384 \\
      --global-batch 2048 --seq-len 8192           # the fastest layouts
  gigawatt train validate                           # the model against published runs";

pub const TRAIN_SEARCH: &str = "\
Examples:
  gigawatt train search --model llama3-405b --system dgx-h100 --gpus 16384 \\
      --global-batch 2048 --seq-len 8192
  gigawatt train search --model llama3-70b --system dgx-b200 --gpus 1024 \\
      --global-batch 512 --seq-len 8192 --precision fp8 --top 3";

pub const TRAIN_VALIDATE: &str = "\
Examples:
  gigawatt train validate                        # the shipped calibration set
  gigawatt train validate my-runs.csv --format json
  gigawatt train validate -f json | jq '.targets.checks[] | select(.met | not)'   # unmet targets
  gigawatt train validate --row gpt-oss          # those rows: layout, fills, where the step goes,
                                                 # what its compute runs by kind of kernel
  gigawatt train validate --out validation.html  # a page with every row's error by source family
  gigawatt train validate my-runs.csv --sources my-recipes.toml   # your runs, with your families
                                                 # and recipes (calibration/sources.toml's schema)";

pub const RELIABILITY: &str = "\
Examples:
  gigawatt reliability --gpus 16384 --days 54
  gigawatt reliability --gpus 1000000 --days 100 --restart-min 2 --async-checkpoint
  gigawatt reliability --gpus 1024 --days 30 --node-failures-per-1000-days 6.5 -f json
  gigawatt reliability --gpus 100000 --work-hours 2000 --system gb200-nvl72";

pub const RISK: &str = "\
Examples:
  gigawatt risk                                         # the shipped OpenAI portfolio
  gigawatt risk --samples 100000 --seed 7 --format json
  gigawatt risk --at-least-gw 5 --by 2028-12            # P(at least 5 GW online by Dec 2028)
  gigawatt risk my-portfolio.toml --out risk.html       # fan chart and tornado chart";
