//! Throwaway: SQLite insert cost for EmailEvents rows under several strategies.
use std::time::Instant;
use whalewatch::cache::Cache;
use whalewatch::config::{AuthKind, Profile};
use whalewatch::model::email::EmailEvent;
use whalewatch::model::hunting::{Cell, HuntingRow};
use whalewatch::sim::WorldParams;
use whalewatch::sim::server::{SimConfig, SimServer};
use whalewatch::tenant::auth::client_secret::ClientSecret;
use whalewatch::tenant::{Credential, Secret};

fn main() {
    let per_day: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10000);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let windows: Vec<Vec<EmailEvent>> = rt.block_on(async {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let params = WorldParams {
            seed: 7,
            now,
            users: 2000,
            days: 30,
            emails_per_day: per_day,
        };
        let mut config = SimConfig::new(params);
        config.hunting_calls_per_minute = 100_000;
        let server = SimServer::start("127.0.0.1:0".parse().unwrap(), config)
            .await
            .unwrap();
        let profile = Profile {
            tenant: server.tenant_id.clone(),
            client_id: server.client_id.clone(),
            auth: AuthKind::ClientSecret,
            client_secret_env: None,
            certificate: None,
            cloud: "global".into(),
            login_url: Some(server.base_url.clone()),
            graph_url: Some(server.base_url.clone()),
            read_only: true,
            tags: vec![],
        };
        let cred =
            Credential::ClientSecret(ClientSecret::new(Secret::new(server.client_secret.clone())));
        let client = whalewatch::sync::connect::client_with(&profile, cred, None, true).unwrap();
        let mut out = Vec::new();
        for d in 0..30 {
            let from = now - chrono::Duration::days(30 - d);
            let to = from + chrono::Duration::days(1);
            let q = format!(
                "EmailEvents | where Timestamp >= datetime({}) and Timestamp < datetime({})",
                from.to_rfc3339(),
                to.to_rfc3339()
            );
            let t = Instant::now();
            let r = client
                .run_hunting_rows::<EmailEvent>(&q, None)
                .await
                .unwrap();
            if d == 0 {
                eprintln!(
                    "one window fetch+parse {:?} ({} rows)",
                    t.elapsed(),
                    r.rows.len()
                );
            }
            out.push(r.rows);
        }
        out
    });
    let n: usize = windows.iter().map(|w| w.len()).sum();
    eprintln!("rows: {n}");
    let mode = std::env::args().nth(2).unwrap_or_default();
    let dir = std::env::temp_dir().join("ww-probe");
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("p.sqlite");
    let mut cache = Cache::open(&path).unwrap();
    cache.defer_checkpoints().unwrap();
    if let Ok(cs) = std::env::var("CS") {
        cache
            .connection()
            .pragma_update(None, "cache_size", cs.parse::<i64>().unwrap())
            .unwrap();
    }
    let t = Instant::now();
    match mode.as_str() {
        "upsert" => {
            for w in &windows {
                cache.write(|tx| tx.upsert_rows(w)).unwrap();
            }
        }
        "bare" | "indexed" => {
            if mode == "bare" {
                cache
                    .connection()
                    .execute_batch("DROP INDEX email_events_key; DROP INDEX email_events_time;")
                    .unwrap();
            }
            let cols = EmailEvent::COLUMNS;
            let sql = format!(
                "INSERT INTO email_events ({}) VALUES ({})",
                cols.iter()
                    .map(|c| format!("\"{c}\""))
                    .collect::<Vec<_>>()
                    .join(","),
                vec!["?"; cols.len()].join(",")
            );
            for w in &windows {
                let tx = cache.connection().unchecked_transaction().unwrap();
                {
                    let mut st = tx.prepare_cached(&sql).unwrap();
                    for r in w {
                        for (i, c) in r.to_cells().iter().enumerate() {
                            match c {
                                Cell::Null => {
                                    st.raw_bind_parameter(i + 1, rusqlite::types::Null).unwrap()
                                }
                                Cell::Int(v) => st.raw_bind_parameter(i + 1, *v).unwrap(),
                                Cell::Text(s) => st.raw_bind_parameter(i + 1, &**s).unwrap(),
                            }
                        }
                        st.raw_execute().unwrap();
                    }
                }
                tx.commit().unwrap();
            }
            eprintln!("inserts {:.2}s", t.elapsed().as_secs_f64());
            if mode == "bare" {
                let t2 = Instant::now();
                cache.connection().execute_batch("CREATE UNIQUE INDEX email_events_key ON email_events (\"NetworkMessageId\", \"RecipientEmailAddress\"); CREATE INDEX email_events_time ON email_events (\"Timestamp\");").unwrap();
                eprintln!("index {:.2}s", t2.elapsed().as_secs_f64());
            }
        }
        _ => {
            let t = Instant::now();
            let mut k = 0usize;
            for w in &windows {
                for r in w {
                    k += r.to_cells().len();
                }
            }
            eprintln!("to_cells only {:?} {k}", t.elapsed());
        }
    }
    let t3 = Instant::now();
    cache.checkpoint().unwrap();
    eprintln!("checkpoint {:.2}s", t3.elapsed().as_secs_f64());
    let s = t.elapsed().as_secs_f64();
    eprintln!("{mode}: {:.2}s total, {:.0} rows/s", s, n as f64 / s);
}
