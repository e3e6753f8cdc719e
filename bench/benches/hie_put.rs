//! PUT throughput and latency of the HIE client on loopback, side by side in one run with a raw
//! `reqwest` loop making the same requests (same server, same body, same connection pool
//! settings), at concurrency 1 and 32. The ratio client/raw is the client's cost: validation,
//! serialization, request id, tracing span, retry bookkeeping, response handling.
//!
//! `cargo bench -p hie-vc-bench --bench hie_put` (`HIE_PUT_SECS` sets the measured seconds per
//! round, default 1; `HIE_PUT_ROUNDS` the rounds, default 10; `HIE_PUT_MODE`, `HIE_PUT_CONC`,
//! `HIE_PUT_ONLY=raw|client|client-validate` and `HIE_PUT_REQUESTS` (a fixed count per task)
//! narrow a run for profiling).

#[path = "../../core/tests/support/server.rs"]
mod server;

use std::sync::Arc;
use std::time::{Duration, Instant};

use hie_vc::fhir::{self, Appointment};
use hie_vc::hie::{HieClient, HieConfig, Prefer};
use hie_vc::mycore::AppointmentBuilder;
use server::{Recorded, Reply, Server};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Side {
    Raw,
    Client { validate: bool },
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Raw => "raw reqwest",
            Side::Client { validate: true } => "HieClient (validation on)",
            Side::Client { validate: false } => "HieClient (validation off)",
        }
    }
}

struct Stats {
    rps: f64,
    /// Process CPU time per request (client and server together; the server's share is the
    /// same on every side, so differences are the client's).
    cpu_us: f64,
    p50: Duration,
    p99: Duration,
}

/// User + system CPU time of this process, from /proc (Linux; 100 ticks per second).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = after
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

fn appointment() -> Appointment {
    AppointmentBuilder::vci("bench-appt-1")
        .specialty("86")
        .healthcare_service("hs-1", "Klinik Pakar Addiction")
        .patient("pt-1", "SIVAKUMAR A/L ARUMUGAM")
        .practitioner("PractitionerRole", "pr-1", "DR SYAHNAZWAN AZIEZ")
        .slot("slot-1")
        .period("2023-07-10T21:00:00+08:00", "2023-07-10T22:00:00+08:00")
        .description("Follow-up virtual consultation")
        .build()
        .expect("a valid VC Appointment")
}

/// `HIE_PUT_REQUESTS=N`: each task sends exactly N requests instead of running for a time
/// (for instruction counts under callgrind, where wall time means nothing).
fn fixed_requests() -> Option<usize> {
    std::env::var("HIE_PUT_REQUESTS").ok()?.parse().ok()
}

async fn run(side: Side, base: &str, concurrency: usize, secs: f64, representation: bool) -> Stats {
    let appt = Arc::new(appointment());
    let url = format!("{base}Appointment/bench-appt-1");
    // The raw loop gets the settings any production client needs and HieClient uses by
    // default: a request timeout (a timer per request) and a connect timeout.
    // It sends the same bytes as HieClient: the same User-Agent, and a fresh X-Request-Id.
    let raw = reqwest::Client::builder()
        .user_agent(concat!("hie-vc/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let prefer = if representation {
        Prefer::Representation
    } else {
        Prefer::Minimal
    };
    let client = match side {
        Side::Client { validate } => Some(
            HieClient::new(
                HieConfig::builder(base)
                    .validate(validate)
                    .prefer(prefer)
                    .build()
                    .unwrap(),
            )
            .unwrap(),
        ),
        Side::Raw => None,
    };
    let one = {
        let (raw, client, appt, url) =
            (raw.clone(), client.clone(), Arc::clone(&appt), url.clone());
        move || {
            let (raw, client, appt, url) =
                (raw.clone(), client.clone(), Arc::clone(&appt), url.clone());
            async move {
                // Each PUT sends an Appointment the caller owns (as an application that just
                // built it would); cloning the template stands in for building it, on both sides.
                let appt = (*appt).clone();
                match client {
                    Some(c) => {
                        let w = c.put_appointment(appt).send().await.unwrap();
                        assert_eq!(w.status, 200);
                    }
                    None => {
                        let resp = raw
                            .put(&url)
                            .header("content-type", "application/fhir+json")
                            .header("accept", "application/fhir+json")
                            .header("prefer", prefer.header_value())
                            .header("x-request-id", uuid::Uuid::new_v4().to_string())
                            .body(fhir::to_vec(&appt))
                            .send()
                            .await
                            .unwrap();
                        assert_eq!(resp.status().as_u16(), 200);
                        let body = resp.bytes().await.unwrap();
                        // The client hands back the stored resource: give the raw loop a parse too.
                        if !body.is_empty() {
                            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                            assert!(v.is_object());
                        }
                    }
                }
            }
        }
    };
    // Warm up the pool and caches.
    for _ in 0..200 {
        one().await;
    }
    let cpu0 = cpu_time();
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let one = one.clone();
            tokio::spawn(async move {
                let mut lat = Vec::with_capacity(100_000);
                let count = fixed_requests();
                while count.map_or(Instant::now() < deadline, |n| lat.len() < n) {
                    let t = Instant::now();
                    one().await;
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = start.elapsed().as_secs_f64();
    let cpu = (cpu_time() - cpu0).as_secs_f64();
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    Stats {
        rps: all.len() as f64 / elapsed,
        cpu_us: cpu * 1e6 / all.len() as f64,
        p50: pct(0.50),
        p99: pct(0.99),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run briefly then.
    let benching = std::env::args().any(|a| a == "--bench");
    let env = |k: &str| std::env::var(k).ok().and_then(|s| s.parse::<f64>().ok());
    let secs = env("HIE_PUT_SECS").unwrap_or(if benching { 1.0 } else { 0.1 });
    let rounds = env("HIE_PUT_ROUNDS").map_or(if benching { 10 } else { 1 }, |r| r as usize);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let modes: &[bool] = match std::env::var("HIE_PUT_MODE").as_deref() {
            Ok("minimal") => &[false],
            Ok("representation") => &[true],
            _ => &[false, true],
        };
        println!("{rounds} rounds of {secs} s per side; each round runs the sides back to back in rotating order,");
        println!("so load from other processes hits all sides alike. Figures are medians over rounds;");
        println!("the ratio is the median of the per-round ratios client/raw.");
        for &representation in modes {
            let body_mode = if representation {
                "return=representation (server echoes the body; raw parses it to serde_json::Value)"
            } else {
                "return=minimal (headers only)"
            };
            let server = Server::start_with(
                move |r: &Recorded| {
                    let reply = if representation {
                        Reply::json(200, r.body.clone())
                    } else {
                        Reply::status(200)
                    };
                    reply.header("ETag", "W/\"2\"").header(
                        "Location",
                        "http://127.0.0.1/Appointment/bench-appt-1/_history/2",
                    )
                },
                false,
            )
            .await;
            let base = server.url();
            let size = fhir::to_vec(&appointment()).len();
            println!("\n## PUT Appointment ({size} bytes), {body_mode}");
            println!("| concurrency | side | req/s | p50 | p99 | CPU/req | ratio vs raw (req/s) |");
            println!("|---|---|---|---|---|---|---|");
            // HIE_PUT_CONC=1 or 32 runs one concurrency (for profiling).
            let levels: Vec<usize> = match std::env::var("HIE_PUT_CONC").ok().and_then(|c| c.parse().ok()) {
                Some(c) => vec![c],
                None => vec![1, 32],
            };
            for &concurrency in &levels {
                let all = [
                    Side::Raw,
                    Side::Client { validate: true },
                    Side::Client { validate: false },
                ];
                // HIE_PUT_ONLY=raw|client|client-validate runs one side (for profiling); ratios
                // need both.
                let sides: Vec<Side> = match std::env::var("HIE_PUT_ONLY").as_deref() {
                    Ok("raw") => vec![Side::Raw],
                    Ok("client") => vec![Side::Client { validate: false }],
                    Ok("client-validate") => vec![Side::Client { validate: true }],
                    _ => all.to_vec(),
                };
                let mut stats: Vec<Vec<Stats>> = sides.iter().map(|_| Vec::new()).collect();
                for round in 0..rounds {
                    for k in 0..sides.len() {
                        let i = (k + round) % sides.len();
                        let s = run(sides[i], &base, concurrency, secs, representation).await;
                        stats[i].push(s);
                    }
                }
                for (i, side) in sides.iter().enumerate() {
                    let st = &stats[i];
                    let med = |f: &dyn Fn(&Stats) -> f64| median(st.iter().map(f).collect());
                    let ratio = median(
                        st.iter()
                            .zip(&stats[0])
                            .map(|(c, r)| c.rps / r.rps)
                            .collect(),
                    );
                    println!(
                        "| {concurrency} | {} | {:.0} | {:.0} µs | {:.0} µs | {:.1} µs | {ratio:.2} |",
                        side.name(),
                        med(&|s| s.rps),
                        med(&|s| s.p50.as_secs_f64() * 1e6),
                        med(&|s| s.p99.as_secs_f64() * 1e6),
                        med(&|s| s.cpu_us),
                    );
                }
            }
        }
    });
}
