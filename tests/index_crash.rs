//! `kill -9` a refresh while it writes the email index's column file (whole, or
//! bringing it up to date in place) or the cache itself, then ask `whalewatch query` as a user would: every answer equals the one
//! SQLite gives, the next open rebuilds or reuses the file, and the temporary file the
//! kill left is removed by the next write.
//!
//! The refresh stops at a named point (`WHALEWATCH_TEST_PAUSE_AT`, read by debug
//! builds only: `config::paths::pause_point`) and says so on stderr; the test kills it
//! with SIGKILL once it has read that line, so nothing waits on a timer.
#![cfg(all(unix, debug_assertions))]

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Stdio;

use common::refresh::{KillOnDrop, SimProcess, Workspace, WorldFlags};
use common::sql_pairs;
use whalewatch::cache::Cache;
use whalewatch::config::paths::PAUSE_AT_ENV;
use whalewatch::query::index::EmailIndex;

const PROFILE: &str = "crash";

/// Runs `refresh` until it reports `point`, then kills it with SIGKILL.
fn refresh_killed_at(ws: &Workspace, point: &str) {
    let mut child = KillOnDrop(
        ws.command(&["refresh", "--hunting-calls-per-minute", "100000"])
            .env(PAUSE_AT_ENV, point)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the refresh starts"),
    );
    let stderr = child.0.stderr.take().expect("piped stderr");
    let wanted = format!("whalewatch: paused at {point}");
    let mut seen = Vec::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("stderr is text");
        if line.contains(&wanted) {
            child.0.kill().expect("SIGKILL");
            let status = child.0.wait().expect("reaped");
            assert_eq!(status.signal(), Some(9), "killed by SIGKILL at {point}");
            return;
        }
        seen.push(line);
    }
    panic!("the refresh ended without reaching {point}; stderr: {seen:#?}");
}

/// The temporary files in `dir` (what a killed write leaves).
fn temps(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".whalewatch-") && n.ends_with(".tmp"))
        .collect()
}

/// CSV output of the binary as rows of cells (header dropped).
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

fn sql_count(cache: &Cache, sql: &str) -> u64 {
    let n: i64 = cache.connection().query_row(sql, [], |r| r.get(0)).unwrap();
    n as u64
}

/// SQLite's `ThreatTypes` test for phish (the index_file tests' definition).
const PHISH: &str = "' ' || \"ThreatTypes\" || ',' LIKE '% Phish,%'";

/// `whalewatch query` answers — counts, a pivot, a histogram, rows — each equal to
/// the answer computed from SQLite.
fn assert_answers_are_sqlites(ws: &Workspace, when: &str) {
    let cache = Cache::open_read_only(&ws.cache_file(PROFILE)).unwrap();
    let total = sql_count(&cache, "SELECT count(*) FROM email_events");
    assert!(total > 500, "{when}: a world with mail ({total} rows)");
    assert_eq!(ws.count("emails", &[]), total, "{when}: count");
    let q1 = sql_count(
        &cache,
        &format!(
            "SELECT count(*) FROM email_events WHERE lower(\"RecipientEmailAddress\") IN \
             (SELECT address FROM tag_members WHERE tag = 'Priority account') AND {PHISH}"
        ),
    );
    assert_eq!(
        ws.count("emails", &["is:priority threat:phish"]),
        q1,
        "{when}: is:priority threat:phish"
    );

    // A pivot: value → count, every value.
    let pivot: BTreeMap<String, i64> = csv_rows(&ws.ok(&[
        "query",
        "emails",
        "--pivot",
        "SenderFromDomain",
        "--format",
        "csv",
    ]))
    .into_iter()
    .map(|r| (r[0].clone(), r[1].parse().unwrap()))
    .collect();
    let sql_pivot: BTreeMap<String, i64> = sql_pairs(
        &cache,
        "SELECT coalesce(\"SenderFromDomain\", ''), count(*) FROM email_events GROUP BY 1",
    )
    .into_iter()
    .collect();
    assert_eq!(pivot, sql_pivot, "{when}: pivot by SenderFromDomain");

    // A histogram by day of the phish: day number → count, non-empty days.
    let hist: BTreeMap<i64, i64> = csv_rows(&ws.ok(&[
        "query",
        "emails",
        "threat:phish",
        "--histogram",
        "day",
        "--format",
        "csv",
    ]))
    .into_iter()
    .map(|r| {
        let start = chrono::DateTime::parse_from_rfc3339(&r[0]).unwrap();
        (start.timestamp().div_euclid(86_400), r[1].parse().unwrap())
    })
    .filter(|&(_, n)| n > 0)
    .collect();
    let sql_hist: BTreeMap<i64, i64> = sql_pairs(
        &cache,
        &format!(
            "SELECT CAST(\"Timestamp\" / 864000000000 AS TEXT), count(*) FROM email_events \
             WHERE {PHISH} GROUP BY \"Timestamp\" / 864000000000"
        ),
    )
    .into_iter()
    .map(|(d, n)| (d.parse().unwrap(), n))
    .collect();
    assert!(!sql_hist.is_empty(), "{when}: the world has phish");
    assert_eq!(hist, sql_hist, "{when}: histogram of the phish by day");

    // Rows: the phish, by key.
    let mut rows: Vec<Vec<String>> = csv_rows(&ws.ok(&[
        "query",
        "emails",
        "threat:phish",
        "--columns",
        "NetworkMessageId,RecipientEmailAddress,LatestDeliveryLocation",
        "--format",
        "csv",
    ]));
    rows.sort();
    let c = cache.connection();
    let mut stmt = c
        .prepare(&format!(
            "SELECT \"NetworkMessageId\", \"RecipientEmailAddress\", \
             coalesce(\"LatestDeliveryLocation\", '') FROM email_events WHERE {PHISH}"
        ))
        .unwrap();
    let mut sql_rows: Vec<Vec<String>> = stmt
        .query_map([], |r| Ok(vec![r.get(0)?, r.get(1)?, r.get(2)?]))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    sql_rows.sort();
    assert_eq!(rows, sql_rows, "{when}: the phish rows");
}

#[test]
fn a_refresh_killed_while_writing_the_column_file_or_the_cache_never_changes_an_answer() {
    let world = WorldFlags::small(151);
    let sim = SimProcess::start(&world, &[]);
    let mut ws = Workspace::new("ixcrash");
    ws.add_sim_profile(PROFILE, &sim);
    let file = EmailIndex::file_path(&ws.cache_file(PROFILE));

    // 1. The first refresh, killed with the column file's temporary copy half
    // written: no column file, a temporary file left behind.
    refresh_killed_at(&ws, "index-half-written");
    assert!(!file.exists(), "no column file was renamed into place");
    let left = temps(&ws.cache_dir);
    assert_eq!(
        left.len(),
        1,
        "the kill leaves its temporary file: {left:?}"
    );
    // The next query builds the index from SQLite, writes the file, and that write
    // removes the temporary file the dead refresh left.
    assert_answers_are_sqlites(&ws, "after a kill with the file half written");
    assert!(file.exists(), "the query wrote the column file");
    assert_eq!(
        temps(&ws.cache_dir),
        Vec::<String>::new(),
        "abandoned temp removed"
    );
    // The same answers from the mapped file.
    assert_answers_are_sqlites(&ws, "mapped after the rebuild");

    // 2. A refresh killed after a new file was renamed into place (the file was
    // gone, so the refresh writes it whole), before the directory was synced.
    std::fs::remove_file(&file).unwrap();
    refresh_killed_at(&ws, &format!("renamed:{PROFILE}.sqlite.email-index"));
    assert_answers_are_sqlites(&ws, "after a kill right after the rename");

    // 2b. A refresh killed while it brings the file up to date in place: the new
    // arrays and table of contents written, the header not. The file still holds the
    // state before; the next open brings it up to date again.
    refresh_killed_at(&ws, "index-appended");
    assert_answers_are_sqlites(&ws, "after a kill during an update in place");

    // 3. A refresh killed in the middle of writing mail into SQLite (inside a window's
    // transaction): the column file of the refresh before stays valid or is rebuilt.
    refresh_killed_at(&ws, "writing:EmailEvents");
    assert_answers_are_sqlites(&ws, "after a kill during the SQLite write");

    // 4. A complete refresh afterwards: the same.
    ws.refresh(&[]).expect_ok("a refresh after the kills");
    assert_answers_are_sqlites(&ws, "after a complete refresh");
    assert_eq!(temps(&ws.cache_dir), Vec::<String>::new());
}

/// `query campaigns`, `query urls` and `query clicks` open the column file like the
/// other entities (they used to rebuild the index from SQLite in every process,
/// seconds at a million rows): with the file gone, each writes it back.
#[test]
fn campaigns_urls_and_clicks_open_the_column_file() {
    let world = WorldFlags::small(152);
    let sim = SimProcess::start(&world, &[]);
    let mut ws = Workspace::new("ixopen");
    ws.add_sim_profile(PROFILE, &sim);
    ws.refresh(&[]).expect_ok("refresh");
    let file = EmailIndex::file_path(&ws.cache_file(PROFILE));
    assert!(file.exists(), "the refresh writes the column file");
    for entity in ["campaigns", "urls", "clicks"] {
        std::fs::remove_file(&file).unwrap();
        ws.ok(&["query", entity, "--format", "csv"]);
        assert!(
            file.exists(),
            "`query {entity}` opened the index through its column file"
        );
    }
}
