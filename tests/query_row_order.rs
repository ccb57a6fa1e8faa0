//! The same filter, sort and limit give the same rows in the same order in every
//! output format, from the cache and from advanced hunting (`--remote`): newest
//! first unless `--sort` says otherwise. The real binary against `sim serve`.

mod common;

use common::refresh::{SimProcess, Workspace, WorldFlags};
use serde_json::Value;

const KEYS: &str = "NetworkMessageId,RecipientEmailAddress";

/// The row keys `query emails` prints in `format` (`NetworkMessageId|recipient`).
fn keys(ws: &Workspace, filter: &str, format: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "query",
        "emails",
        filter,
        "--columns",
        KEYS,
        "--format",
        format,
    ];
    args.extend_from_slice(extra);
    let out = ws.ok(&args);
    let key = |v: &Value| {
        format!(
            "{}|{}",
            v["NetworkMessageId"].as_str().expect("NetworkMessageId"),
            v["RecipientEmailAddress"]
                .as_str()
                .expect("RecipientEmailAddress")
                .to_ascii_lowercase()
        )
    };
    match format {
        "json" => serde_json::from_str::<Vec<Value>>(&out)
            .expect("a JSON array")
            .iter()
            .map(key)
            .collect(),
        "jsonl" => out
            .lines()
            .map(|l| key(&serde_json::from_str(l).expect("a JSON line")))
            .collect(),
        // Ids and addresses need no CSV quoting.
        "csv" => out
            .lines()
            .skip(1)
            .map(|l| {
                let (n, r) = l.split_once(',').expect("two cells");
                format!("{n}|{}", r.to_ascii_lowercase())
            })
            .collect(),
        _ => out
            .lines()
            .skip(1)
            .map(|l| {
                let mut w = l.split_whitespace();
                let (n, r) = (w.next().expect("id"), w.next().expect("recipient"));
                format!("{n}|{}", r.to_ascii_lowercase())
            })
            .collect(),
    }
}

/// `Timestamp` of each row key, from an unlimited local JSON export.
fn times(ws: &Workspace, filter: &str) -> std::collections::HashMap<String, String> {
    let out = ws.ok(&["query", "emails", filter, "--format", "jsonl"]);
    out.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("a JSON line");
            (
                format!(
                    "{}|{}",
                    v["NetworkMessageId"].as_str().unwrap_or_default(),
                    v["RecipientEmailAddress"]
                        .as_str()
                        .unwrap_or_default()
                        .to_ascii_lowercase()
                ),
                v["Timestamp"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn every_format_local_and_remote_gives_the_same_rows_newest_first() {
    let world = WorldFlags::small(31);
    let sim = SimProcess::start(&world, &[]);
    let mut ws = Workspace::new("row-order");
    ws.add_sim_profile("sim", &sim);
    ws.refresh(&[]).expect_ok("refresh");

    for (filter, limit) in [
        ("", "7"),
        ("threat:phish", "5"),
        ("threat:phish,malware", ""),
    ] {
        let limit: Vec<&str> = if limit.is_empty() {
            Vec::new()
        } else {
            vec!["--limit", limit]
        };
        let table = keys(&ws, filter, "table", &limit);
        assert!(!table.is_empty(), "`{filter}` selects rows");
        if let Some(n) = limit.get(1) {
            assert_eq!(table.len(), n.parse::<usize>().expect("n"), "`{filter}`");
        }
        // Newest first: timestamps never increase down the list, and no row left out
        // is newer than the last one shown.
        let all = times(&ws, filter);
        let shown: Vec<&String> = table.iter().map(|k| &all[k]).collect();
        assert!(
            shown.windows(2).all(|w| w[0] >= w[1]),
            "`{filter}`: {shown:?}"
        );
        let oldest_shown = shown.last().expect("a row");
        assert!(
            all.iter()
                .filter(|(k, _)| !table.contains(k))
                .all(|(_, t)| t <= *oldest_shown),
            "`{filter}` left out a newer row"
        );
        for format in ["json", "jsonl", "csv"] {
            assert_eq!(
                keys(&ws, filter, format, &limit),
                table,
                "`{filter}` {limit:?}: local {format} ≠ table"
            );
        }
        let mut remote = limit.clone();
        remote.push("--remote");
        for format in ["table", "json", "jsonl", "csv"] {
            assert_eq!(
                keys(&ws, filter, format, &remote),
                table,
                "`{filter}` {limit:?}: remote {format} ≠ local table"
            );
        }
    }

    // An explicit sort is honoured the same way everywhere (Timestamp ascending: the
    // oldest rows; ties in cache order on both sides).
    let sort = ["--sort", "Timestamp:asc", "--limit", "6"];
    let table = keys(&ws, "threat:phish", "table", &sort);
    let all = times(&ws, "threat:phish");
    let shown: Vec<&String> = table.iter().map(|k| &all[k]).collect();
    assert!(shown.windows(2).all(|w| w[0] <= w[1]), "{shown:?}");
    for format in ["json", "csv"] {
        assert_eq!(keys(&ws, "threat:phish", format, &sort), table, "{format}");
    }
    let mut remote = sort.to_vec();
    remote.push("--remote");
    assert_eq!(keys(&ws, "threat:phish", "json", &remote), table, "remote");
}
