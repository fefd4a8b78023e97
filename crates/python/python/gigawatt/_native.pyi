# Stubs for the Rust extension `gigawatt._native` (crates/python/src). Checked against the
# compiled module by tests/test_stubs.py: every name here exists there and vice versa, and each
# function's parameters and defaults match its PyO3 signature.
from typing import Optional

ENGINE_VERSION: str

class InputError(ValueError):
    file: Optional[str]
    line: Optional[int]
    field: Optional[str]
    fix: Optional[str]
    diagnostics: list[dict]

class InternalError(RuntimeError): ...

class NativeResult:
    @property
    def kind(self) -> str: ...
    def json(self) -> str: ...
    def html(self) -> Optional[str]: ...

def plan(origin: str, text: str, ranges: bool = True, draws: int = 1000, seed: int = 0) -> NativeResult: ...
def train(origin: str, text: str) -> NativeResult: ...
def train_validate(
    files: Optional[list[tuple[str, str]]] = None, sources: Optional[list[tuple[str, str]]] = None
) -> NativeResult: ...
def infer(origin: str, text: str) -> NativeResult: ...
def train_search(
    model: str,
    system: str,
    gpus: int,
    global_batch: int,
    seq_len: int,
    precision: str = "bf16",
    framework: Optional[str] = None,
    top: int = 5,
) -> NativeResult: ...
def infer_search(
    model: str,
    system: str,
    input_tokens: float,
    output_tokens: float,
    ttft_slo_s: Optional[float] = None,
    tpot_slo_s: Optional[float] = None,
    precision: str = "bf16",
    kv_precision: str = "bf16",
    mode: str = "server",
    disaggregated: bool = False,
    max_batch: Optional[float] = None,
    slo_percentile: Optional[float] = None,
    top: int = 5,
) -> NativeResult: ...
def reliability(request: str) -> NativeResult: ...
def risk(
    origin: str,
    text: str,
    dir: Optional[str] = None,
    samples: Optional[int] = None,
    seed: Optional[int] = None,
) -> NativeResult: ...
def scenarios() -> list[tuple[str, str]]: ...
def shipped_scenario(name: str) -> Optional[tuple[str, str]]: ...
def catalog_json() -> str: ...
def toml_from_json(json_text: str) -> str: ...
def sweep_base(origin: str, text: str, dir: Optional[str] = None) -> tuple[str, str]: ...
def sweep_points(
    origin: str, text: str, base_origin: str, base_text: str, force: bool = False
) -> int: ...
def sweep(
    origin: str,
    text: str,
    base_origin: str,
    base_text: str,
    shard_index: int = 1,
    shard_count: int = 1,
    force: bool = False,
) -> bytes: ...
def panic_for_tests() -> None: ...
