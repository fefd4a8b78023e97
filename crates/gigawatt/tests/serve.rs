//! `gigawatt serve` as a user runs it: the real binary on a free port, spoken to over HTTP/1.1
//! on loopback with a tiny client written here (no client crate).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// A running `gigawatt serve`, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(data: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gigawatt"))
            .args(["serve", "--port", "0", "--data"])
            .arg(data)
            .current_dir(std::env::temp_dir())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("gigawatt serve starts");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("listening on http://") {
                    let _ = tx.send(addr.trim().to_string());
                }
                // Keep draining so the server never blocks on a full pipe.
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server prints `listening on http://ADDR:PORT`");
        Server {
            child,
            addr: addr.parse().expect("an address"),
        }
    }

    fn get(&self, path: &str) -> Response {
        request(self.addr, "GET", path, None)
    }

    fn post_json(&self, path: &str, body: &Value) -> Response {
        request(
            self.addr,
            "POST",
            path,
            Some(("application/json", body.to_string().into_bytes())),
        )
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request on a new connection (`Connection: close`).
fn request(addr: SocketAddr, method: &str, path: &str, body: Option<(&str, Vec<u8>)>) -> Response {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    let bytes = match &body {
        Some((content_type, bytes)) => {
            head += &format!(
                "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
                bytes.len()
            );
            bytes.clone()
        }
        None => Vec::new(),
    };
    head += "\r\n";
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&bytes).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("reads the response");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header block");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = dechunk(&body);
    }
    Response {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(end) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_text = String::from_utf8_lossy(&data[..end]);
        let size =
            usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap_or(0);
        if size == 0 {
            return out;
        }
        let start = end + 2;
        out.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gigawatt-serve-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const SCENARIO: &str = "name = \"Serve test\"\n[[tranche]]\nname = \"one\"\nsystem = \"gb200-nvl72\"\nfacility_gw = 1.0\nstart = \"2026-01\"\n";

#[test]
fn dashboard_api_and_saved_runs_survive_a_killed_server() {
    let dir = temp_dir("runs");
    let data = dir.join("data");
    let server = Server::start(&data);

    let health = server.get("/healthz");
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");

    let home = server.get("/");
    assert_eq!(home.status, 303);
    assert_eq!(home.header("location"), Some("/plan"));
    let plan_page = server.get("/plan");
    assert_eq!(plan_page.status, 200);
    assert!(plan_page.body.contains("<textarea id=\"scenario\""));
    assert!(
        plan_page.body.contains("OpenAI-NVIDIA 10 GW"),
        "the editor holds the default shipped scenario"
    );
    assert!(!plan_page.body.contains("http://cdn") && !plan_page.body.contains("https://cdn"));

    let plan = server.post_json("/api/plan", &serde_json::json!({ "input": SCENARIO }));
    assert_eq!(plan.status, 200, "{}", plan.body);
    assert!(plan.json()["totals"]["accelerators"].as_f64().unwrap() > 0.0);

    let saved = server.post_json(
        "/api/runs",
        &serde_json::json!({ "kind": "plan", "input": SCENARIO, "name": "kept" }),
    );
    assert_eq!(saved.status, 201, "{}", saved.body);
    let id = saved.json()["run"]["id"].as_i64().unwrap();

    // SIGKILL: no graceful shutdown. What was acknowledged must be on disk.
    server.kill();
    assert!(data.join("runs.sqlite3").exists());
    let server = Server::start(&data);
    let run = server.get(&format!("/api/runs/{id}"));
    assert_eq!(run.status, 200, "{}", run.body);
    let run = run.json();
    assert_eq!(run["name"], "kept");
    assert_eq!(run["input_text"], SCENARIO);
    assert_eq!(run["input_hash"], run["result"]["scenario"]["input_hash"]);
    let page = server.get(&format!("/runs/{id}"));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("kept"));

    let deleted = request(server.addr, "DELETE", &format!("/api/runs/{id}"), None);
    assert_eq!(deleted.status, 204);
    assert_eq!(server.get(&format!("/api/runs/{id}")).status, 404);
    assert_eq!(server.get("/api/runs/..%2f..%2fetc%2fpasswd").status, 404);
    assert_eq!(server.get("/static/../../etc/passwd").status, 404);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_scenarios_get_400_with_the_cli_message() {
    let dir = temp_dir("bad");
    let text = "name = \"x\"\n[[tranche]]\nsystem = \"gb200-nvl72\"\nfacility_gw = 1.0\nstart = \"2026-13\"\n";
    std::fs::write(dir.join("bad.toml"), text).unwrap();
    let cli = Command::new(env!("CARGO_BIN_EXE_gigawatt"))
        .args(["plan", "bad.toml"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(cli.status.code(), Some(2));
    let cli_message = String::from_utf8_lossy(&cli.stderr).trim_end().to_string();

    let server = Server::start(&dir.join("data"));
    let api = server.post_json(
        "/api/plan",
        &serde_json::json!({ "input": text, "origin": "bad.toml" }),
    );
    assert_eq!(api.status, 400);
    assert_eq!(
        format!("error: {}", api.json()["error"].as_str().unwrap()),
        cli_message
    );
    let malformed = request(
        server.addr,
        "POST",
        "/api/plan",
        Some(("application/json", b"{\"input\": ".to_vec())),
    );
    assert_eq!(malformed.status, 400);
    assert!(malformed.json()["error"]
        .as_str()
        .unwrap()
        .contains("not valid JSON"));
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn concurrent_clients_all_get_answers() {
    let dir = temp_dir("concurrent");
    let server = Server::start(&dir.join("data"));
    let addr = server.addr;
    let threads: Vec<_> = (0..8)
        .map(|i| {
            std::thread::spawn(move || {
                for _ in 0..5 {
                    let r = if i % 2 == 0 {
                        request(addr, "GET", "/api/runs", None)
                    } else {
                        let body = serde_json::json!({ "input": SCENARIO }).to_string();
                        request(
                            addr,
                            "POST",
                            "/api/plan",
                            Some(("application/json", body.into_bytes())),
                        )
                    };
                    assert_eq!(r.status, 200, "{}", r.body);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_taken_port_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let dir = temp_dir("taken");
    let out = Command::new(env!("CARGO_BIN_EXE_gigawatt"))
        .args(["serve", "--port", &port, "--data"])
        .arg(dir.join("data"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("failed to listen on 127.0.0.1:"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
