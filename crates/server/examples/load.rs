//! Load test: N concurrent keep-alive clients on loopback for a bounded time and request count,
//! with a realistic mix (plans, the plan page, run lists, health checks, a few saves), counting
//! errors and latency percentiles.
//!
//!   cargo run --release -p server --example load -- --clients 50 --seconds 30
//!   cargo run --release -p server --example load -- --addr 127.0.0.1:8080   # a running server
//!
//! Without --addr it starts the server in this process on a free port with a temporary
//! `--data` folder. Only loopback addresses are accepted.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

const SCENARIO: &str = include_str!("../../../scenarios/openai-nvidia-2026.toml");

struct Options {
    addr: Option<SocketAddr>,
    clients: usize,
    seconds: u64,
    max_requests: u64,
}

fn options() -> Options {
    let mut o = Options {
        addr: None,
        clients: 50,
        seconds: 30,
        max_requests: 2_000_000,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--addr" => o.addr = Some(value.parse().expect("--addr IP:PORT")),
            "--clients" => o.clients = value.parse().expect("--clients N"),
            "--seconds" => o.seconds = value.parse().expect("--seconds S"),
            "--max-requests" => o.max_requests = value.parse().expect("--max-requests N"),
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    assert!((1..=1000).contains(&o.clients), "--clients is 1 to 1000");
    assert!((1..=600).contains(&o.seconds), "--seconds is 1 to 600");
    if let Some(addr) = o.addr {
        assert!(
            addr.ip().is_loopback(),
            "the load test runs on loopback only"
        );
    }
    o
}

fn temp_data() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("gigawatt-load-{}", std::process::id()))
}

fn start_in_process() -> SocketAddr {
    let data = temp_data();
    let _ = std::fs::remove_dir_all(&data);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let catalog = catalog::Catalog::embedded().expect("catalog");
        let scenarios = vec![server::ShippedScenario {
            name: "openai-nvidia-2026".into(),
            text: SCENARIO.into(),
        }];
        server::serve_blocking(
            "127.0.0.1:0".parse().unwrap(),
            &data,
            catalog,
            scenarios,
            None,
            server::ServerConfig::default(),
            move |addr| {
                let _ = tx.send(addr);
            },
        )
        .expect("server runs");
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("server starts")
}

struct Conn {
    addr: SocketAddr,
    reader: Option<BufReader<TcpStream>>,
}

impl Conn {
    fn request(&mut self, method: &str, path: &str, body: Option<&str>) -> std::io::Result<u16> {
        if self.reader.is_none() {
            let stream = TcpStream::connect(self.addr)?;
            stream.set_read_timeout(Some(Duration::from_secs(60)))?;
            stream.set_nodelay(true)?;
            self.reader = Some(BufReader::new(stream));
        }
        let result = self.exchange(method, path, body);
        if result.is_err() {
            self.reader = None;
        }
        result
    }

    fn exchange(&mut self, method: &str, path: &str, body: Option<&str>) -> std::io::Result<u16> {
        let reader = self.reader.as_mut().unwrap();
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.addr);
        if let Some(b) = body {
            head += &format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                b.len()
            );
        }
        head += "\r\n";
        let stream = reader.get_mut();
        stream.write_all(head.as_bytes())?;
        if let Some(b) = body {
            stream.write_all(b.as_bytes())?;
        }
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
        let mut length = 0usize;
        let mut chunked = false;
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((name, value)) = l.split_once(':') {
                let name = name.trim().to_ascii_lowercase();
                if name == "content-length" {
                    length = value.trim().parse().unwrap_or(0);
                } else if name == "transfer-encoding" && value.contains("chunked") {
                    chunked = true;
                }
            }
        }
        if chunked {
            loop {
                line.clear();
                reader.read_line(&mut line)?;
                let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16)
                    .unwrap_or(0);
                let mut skip = vec![0u8; size + 2];
                reader.read_exact(&mut skip)?;
                if size == 0 {
                    break;
                }
            }
        } else {
            let mut buf = vec![0u8; length];
            reader.read_exact(&mut buf)?;
        }
        Ok(status)
    }
}

fn main() {
    let o = options();
    let addr = o.addr.unwrap_or_else(start_in_process);
    let plan_body = serde_json::json!({ "input": SCENARIO, "origin": "load.toml" }).to_string();
    let save_body =
        serde_json::json!({ "kind": "plan", "input": SCENARIO, "name": "load test" }).to_string();
    let issued = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(o.seconds);
    println!(
        "load: {} clients, {} s (at most {} requests) against http://{addr}",
        o.clients, o.seconds, o.max_requests
    );
    let started = Instant::now();
    let workers: Vec<_> = (0..o.clients)
        .map(|c| {
            let issued = issued.clone();
            let (plan_body, save_body) = (plan_body.clone(), save_body.clone());
            let max = o.max_requests;
            std::thread::spawn(move || {
                let mut conn = Conn { addr, reader: None };
                let mut latencies_us = Vec::new();
                let mut errors: Vec<String> = Vec::new();
                let mut n = c as u64;
                while Instant::now() < deadline && issued.fetch_add(1, Ordering::Relaxed) < max {
                    n += 1;
                    // The mix, out of 20: 8 JSON plans, 2 HTML plans, 3 plan pages, 4 run lists,
                    // 2 health checks, 1 save.
                    let (method, path, body) = match n % 20 {
                        0..=7 => ("POST", "/api/plan", Some(plan_body.as_str())),
                        8 | 9 => ("POST", "/api/plan?format=html", Some(plan_body.as_str())),
                        10..=12 => ("GET", "/plan", None),
                        13..=16 => ("GET", "/api/runs?limit=50", None),
                        17 | 18 => ("GET", "/healthz", None),
                        _ => ("POST", "/api/runs", Some(save_body.as_str())),
                    };
                    let t = Instant::now();
                    match conn.request(method, path, body) {
                        Ok(status) if (200..300).contains(&status) => {
                            latencies_us.push(t.elapsed().as_micros() as u64)
                        }
                        Ok(status) => errors.push(format!("{method} {path}: {status}")),
                        Err(e) => errors.push(format!("{method} {path}: {e}")),
                    }
                }
                (latencies_us, errors)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = Vec::new();
    for w in workers {
        let (l, e) = w.join().expect("client thread");
        latencies.extend(l);
        errors.extend(e);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let i = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies[i] as f64 / 1000.0
    };
    let total = latencies.len() + errors.len();
    println!("requests   {total}");
    println!("ok         {}", latencies.len());
    println!("errors     {}", errors.len());
    println!("duration   {elapsed:.1} s");
    println!("throughput {:.0} req/s", total as f64 / elapsed);
    println!(
        "latency    p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0)
    );
    for e in errors.iter().take(10) {
        println!("  error: {e}");
    }
    if o.addr.is_none() {
        let db = temp_data().join(server::DATABASE_FILE);
        let size = std::fs::metadata(&db).map_or(0, |m| m.len());
        println!(
            "database   {:.0} MiB after the saves",
            size as f64 / 1048576.0
        );
        let _ = std::fs::remove_dir_all(temp_data());
    }
    if !errors.is_empty() {
        std::process::exit(1);
    }
}
