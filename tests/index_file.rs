//! The email index's column file (`<cache>.email-index`): a real simulator, a real
//! refresh into a temporary cache, then the index opened from the mapped file answers
//! exactly like a freshly built index and like SQLite; a stale, damaged, truncated or
//! half-written file is never used: the next open rebuilds it from SQLite.

mod common;

use std::path::{Path, PathBuf};

use common::{now, small_world, sql_pairs, start};
use whalewatch::cache::Cache;
use whalewatch::query::index::{Column, EmailIndex, SortKey};
use whalewatch::query::kql::TimeBin;
use whalewatch::query::{Entity, parse};
use whalewatch::sim::server::SimConfig;

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ww-ixf-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A small simulated tenant refreshed into `dir/t.sqlite` through the library.
async fn refreshed_cache(dir: &Path, secret_env: &str) -> PathBuf {
    let mut config = SimConfig::new(small_world(77));
    config.hunting_calls_per_minute = 100_000;
    let server = start(config).await;
    // SAFETY: this test's own variable, set before the refresh reads it.
    unsafe { std::env::set_var(secret_env, &server.client_secret) };
    let profile = whalewatch::demo::signed_in(&server, secret_env);
    let path = dir.join("t.sqlite");
    let client = whalewatch::sync::connect::graph_client("t", &profile, dir, true).unwrap();
    let options = whalewatch::sync::RefreshOptions {
        hunting_calls_per_minute: 100_000,
        ..Default::default()
    };
    whalewatch::sync::refresh(
        &client,
        Cache::open(&path).unwrap(),
        &profile,
        &options,
        &|_| {},
    )
    .await
    .unwrap();
    path
}

/// Damages the file the way a disk or another program would, as a new inode: the
/// maps of earlier opens (`mapped` below) keep reading the bytes they mapped.
fn replace(file: &Path, bytes: &[u8]) {
    std::fs::remove_file(file).unwrap();
    std::fs::write(file, bytes).unwrap();
}

const FILTERS: &[&str] = &[
    "",
    "is:priority threat:phish",
    "threat:phish,malware -location:quarantine",
    "clicked:yes OR zap:yes",
    "url-domain:*.top,*.xyz",
    "attachment:*.pdf,*.docx",
    "campaign:*",
    "bcl:>=7",
    "size:>100000",
    "recipient-domain:contoso.com",
    "since:1d",
];

/// Every answer the CLI and the console take from an index, as text.
fn answers(ix: &EmailIndex) -> Vec<String> {
    let mut out = vec![format!("rows {}", ix.len())];
    for f in FILTERS {
        let rows = ix.eval(&parse(Entity::Emails, f).unwrap(), now()).unwrap();
        out.push(format!("{f}: {}", rows.count()));
        for col in [
            "SenderFromDomain",
            "LatestDeliveryLocation",
            "BulkComplaintLevel",
        ] {
            out.push(format!(
                "{f} by {col}: {:?}",
                ix.frequency(&rows, Column::parse(col).unwrap())
            ));
        }
        let h = ix
            .histogram(&rows, TimeBin::Day, Column::parse("ThreatTypes"))
            .unwrap();
        out.push(format!("{f} histogram: {h:?}"));
        let newest = ix.top(&rows, SortKey::NEWEST, 50);
        out.push(format!(
            "{f} newest: {:?}",
            newest
                .iter()
                .map(|&r| ix.key(r as usize))
                .collect::<Vec<_>>()
        ));
        out.push(format!("{f} planned: {:?}", ix.planned_messages(&rows)));
        // The side tables: URLs with their clicks, the click table, post-delivery flags.
        out.push(format!("{f} top URLs: {:?}", ix.top_urls(&rows)));
        out.push(format!("{f} clicks: {:?}", ix.clicks(&rows)));
    }
    let side = ix.side();
    for flags in [
        &side.clicked_any,
        &side.clicked,
        &side.zapped,
        &side.released,
    ] {
        out.push(format!(
            "flags: {:?}",
            (0..ix.len())
                .filter(|&r| flags.contains(r))
                .collect::<Vec<_>>()
        ));
    }
    out.push(format!("facets: {:?}", ix.facets(&ix.all(), 10).unwrap()));
    // Every cell of every row.
    let cols: Vec<Column> = Column::names().filter_map(Column::parse).collect();
    for r in 0..ix.len() {
        let row: Vec<String> = cols.iter().map(|&c| ix.value(c, r)).collect();
        out.push(row.join("\u{1f}"));
    }
    out
}

/// The same figures straight from SQLite.
fn sqlite_answers(cache: &Cache) -> Vec<(String, i64)> {
    let rows = |sql: &str| sql_pairs(cache, sql);
    let mut out = rows("SELECT 'rows', count(*) FROM email_events");
    out.extend(rows(
        "SELECT 'q1', count(*) FROM email_events WHERE lower(\"RecipientEmailAddress\") IN \
         (SELECT address FROM tag_members WHERE tag = 'Priority account') \
         AND ' ' || \"ThreatTypes\" || ',' LIKE '% Phish,%'",
    ));
    out.extend(rows(
        "SELECT coalesce(\"SenderFromDomain\", ''), count(*) c FROM email_events GROUP BY 1 ORDER BY c DESC, 1",
    ));
    out.extend(rows(
        "SELECT coalesce(\"LatestDeliveryLocation\", ''), count(*) c FROM email_events GROUP BY 1 ORDER BY c DESC, 1",
    ));
    out
}

fn index_answers_as_sqlite(ix: &EmailIndex) -> Vec<(String, i64)> {
    let all = ix.all();
    let mut out = vec![("rows".to_string(), ix.len() as i64)];
    let q1 = ix
        .eval(
            &parse(Entity::Emails, "is:priority threat:phish").unwrap(),
            now(),
        )
        .unwrap();
    out.push(("q1".into(), q1.count() as i64));
    for col in ["SenderFromDomain", "LatestDeliveryLocation"] {
        let f = ix.frequency(&all, Column::parse(col).unwrap());
        out.extend(f.rows.into_iter().map(|r| (r.value, r.count as i64)));
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn the_mapped_index_answers_like_a_fresh_build_and_like_sqlite_and_damage_rebuilds() {
    let dir = temp_dir("main");
    let path = refreshed_cache(&dir, "WW_IXF_SECRET").await;
    let file = EmailIndex::file_path(&path);
    let cache = Cache::open_read_only(&path).unwrap();

    // No file yet: the first open builds, writes it owner-only, and maps it.
    assert!(!file.exists());
    let first = EmailIndex::open(&cache).unwrap();
    assert!(
        first.is_mapped(),
        "the built index is reopened from its file"
    );
    assert!(file.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "tenant data: owner-only");
    }
    assert!(first.len() > 500, "a world with mail: {}", first.len());
    let built = EmailIndex::build(&cache).unwrap();
    assert!(!built.is_mapped());
    let expected = answers(&built);
    assert_eq!(answers(&first), expected);
    let mapped = EmailIndex::open(&cache).unwrap();
    assert!(mapped.is_mapped());
    assert!(
        mapped.heap_bytes() < built.heap_bytes() / 20,
        "mapped columns are page cache, not heap: {} vs {}",
        mapped.heap_bytes(),
        built.heap_bytes()
    );
    assert_eq!(answers(&mapped), expected);
    // Releasing the mapped pages (the console does once its load is done) changes no
    // answer: each page reads back from the file.
    mapped.release_pages();
    assert_eq!(answers(&mapped), expected);
    // Rows stored in time order are ordered by time without a sort, exactly as
    // the sort orders them (ties by row).
    assert!(
        mapped.times().is_sorted(),
        "the cache holds mail in time order"
    );
    for f in FILTERS {
        let rows = mapped
            .eval(&parse(Entity::Emails, f).unwrap(), now())
            .unwrap();
        for key in [
            SortKey::NEWEST,
            SortKey {
                descending: false,
                ..SortKey::NEWEST
            },
        ] {
            assert_eq!(
                mapped.sorted(&rows, key),
                mapped.top(&rows, key, usize::MAX),
                "{f}"
            );
        }
    }
    // A top-N group-by is the head of the full table, with the same total.
    for f in FILTERS {
        let rows = mapped
            .eval(&parse(Entity::Emails, f).unwrap(), now())
            .unwrap();
        for col in ["SenderFromDomain", "RecipientDomain", "BulkComplaintLevel"] {
            let c = Column::parse(col).unwrap();
            let full = mapped.frequency(&rows, c);
            let top = mapped.frequency_top(&rows, c, 3);
            assert_eq!(top.total, full.total, "{f} {col}");
            assert_eq!(
                top.rows[..],
                full.rows[..full.rows.len().min(3)],
                "{f} {col}"
            );
        }
    }
    let sqlite = sqlite_answers(&cache);
    assert_eq!(index_answers_as_sqlite(&mapped), sqlite);
    let good = std::fs::read(&file).unwrap();

    // Damage: a flipped byte in the middle, then a truncation, then a header from
    // another version. Each open rebuilds (answers stay SQLite's) and rewrites the file.
    // (The flipped byte is one of the first rows' times: the middle of the file may
    // be the room left for new rows, which no answer reads.)
    let mut flipped = good.clone();
    flipped[300] ^= 0x40;
    let half = good[..good.len() / 2].to_vec();
    let mut version = good.clone();
    version[8] = version[8].wrapping_add(1);
    for (what, bytes) in [
        ("flipped", flipped),
        ("truncated", half),
        ("version", version),
    ] {
        replace(&file, &bytes);
        let ix = EmailIndex::open(&cache).unwrap();
        assert_eq!(answers(&ix), expected, "{what}");
        assert_eq!(index_answers_as_sqlite(&ix), sqlite, "{what}");
        assert_eq!(
            std::fs::read(&file).unwrap(),
            good,
            "{what}: the file is rewritten"
        );
    }

    // A crash in the middle of a write: its temporary file is left half-written
    // beside a truncated target (as after kill -9 with a torn earlier copy).
    std::fs::write(dir.join(".whalewatch-crash.tmp"), &good[..good.len() / 3]).unwrap();
    replace(&file, &good[..100]);
    let ix = EmailIndex::open(&cache).unwrap();
    assert_eq!(answers(&ix), expected);
    assert_eq!(std::fs::read(&file).unwrap(), good);
    drop(ix);

    // Stale: the cache is written after the file (a remediation moves a message in
    // place: same rows, new value). The open sees the new generation and rebuilds.
    let key = mapped.key(0);
    let moved = {
        let c = Cache::open(&path).unwrap();
        let mut ev = c.email(&key).unwrap().unwrap();
        ev.latest_delivery_location = Some("Deleted items".into());
        let mut c = c;
        c.write(|w| w.upsert_rows(&[ev])).unwrap();
        c.generation().unwrap()
    };
    let cache = Cache::open_read_only(&path).unwrap();
    let fresh = EmailIndex::open(&cache).unwrap();
    assert_eq!(fresh.generation(), moved);
    let loc = fresh.column("LatestDeliveryLocation").unwrap();
    assert_eq!(
        fresh.value(loc, fresh.row_of(&key).unwrap()),
        "Deleted items"
    );
    assert_eq!(
        answers(&fresh),
        answers(&EmailIndex::build(&cache).unwrap())
    );
    assert_eq!(index_answers_as_sqlite(&fresh), sqlite_answers(&cache));
    // The old map still reads the old file's bytes (the new file replaced it by rename).
    assert_eq!(answers(&mapped), expected);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The inode of `file`: a full write replaces it (rename), an update in place keeps it.
fn inode(file: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(file).unwrap().ino()
}

#[tokio::test(flavor = "multi_thread")]
async fn new_and_changed_rows_go_into_the_file_in_place_answering_like_a_rebuild() {
    use whalewatch::model::email::{EmailUrl, UrlClick};
    let dir = temp_dir("append");
    let path = refreshed_cache(&dir, "WW_IXF_APPEND_SECRET").await;
    let file = EmailIndex::file_path(&path);
    let reader = Cache::open_read_only(&path).unwrap();
    let before = EmailIndex::open(&reader).unwrap();
    let before_answers = answers(&before);
    let ino = inode(&file);
    let size = std::fs::metadata(&file).unwrap().len();

    // What a refresh brings: a new message (new sender domain, URL, subject), a
    // late recipient of a message the file holds (clicked a URL), and a message
    // moved in place to a location no row had.
    let mut c = Cache::open(&path).unwrap();
    let newest = c.newest_emails(3).unwrap();
    let mut new_msg = newest[0].clone();
    new_msg.network_message_id = "appended-message-1".into();
    new_msg.recipient_email_address = "first.reader@contoso.com".into();
    new_msg.sender_from_domain = "never-seen-before.example".into();
    new_msg.subject = "A subject no row had".into();
    new_msg.timestamp += chrono::Duration::minutes(5);
    let mut late = newest[1].clone();
    late.recipient_email_address = "late.recipient@contoso.com".into();
    let mut moved = newest[2].clone();
    moved.latest_delivery_location = Some("Purged by a test".into());
    let url = EmailUrl {
        timestamp: new_msg.timestamp,
        network_message_id: new_msg.network_message_id.clone(),
        url: "https://never-seen-before.example/login".into(),
        url_domain: "never-seen-before.example".into(),
        url_location: "Body".into(),
        ..EmailUrl::default()
    };
    let click = UrlClick {
        timestamp: late.timestamp,
        url: url.url.clone(),
        action_type: "ClickAllowed".into(),
        account_upn: late.recipient_email_address.clone(),
        workload: "Email".into(),
        network_message_id: late.network_message_id.clone(),
        is_clicked_through: true,
        ..UrlClick::default()
    };
    c.write(|w| {
        w.upsert_rows(&[new_msg.clone(), late.clone(), moved.clone()])?;
        w.upsert_rows(&[url])?;
        w.upsert_rows(&[click])
    })
    .unwrap();

    let appended = EmailIndex::open(&reader).unwrap();
    assert_eq!(inode(&file), ino, "updated in place, not rewritten");
    assert!(appended.is_mapped());
    assert_eq!(appended.len(), before.len() + 2);
    assert_eq!(appended.generation(), reader.generation().unwrap());
    let rebuilt = EmailIndex::build(&reader).unwrap();
    assert_eq!(answers(&appended), answers(&rebuilt));
    assert_eq!(index_answers_as_sqlite(&appended), sqlite_answers(&reader));
    let loc = appended.column("LatestDeliveryLocation").unwrap();
    let key = |e: &whalewatch::model::email::EmailEvent| whalewatch::query::index::RowKey {
        network_message_id: e.network_message_id.clone(),
        recipient: e.recipient_email_address.clone(),
    };
    assert_eq!(
        appended.value(loc, appended.row_of(&key(&moved)).unwrap()),
        "Purged by a test"
    );
    assert!(
        appended
            .side()
            .clicked_any
            .contains(appended.row_of(&key(&late)).unwrap())
    );
    // A process that mapped the file before keeps reading the state it mapped.
    assert_eq!(answers(&before), before_answers);
    // Only the new rows and the re-read tables were written: far less than a copy.
    let grown = std::fs::metadata(&file).unwrap().len() - size;
    assert!(grown < size / 2, "grew by {grown} of {size} bytes");

    // A second update writes the other header slot; a reopen reads the newest.
    let mut later = new_msg.clone();
    later.network_message_id = "appended-message-2".into();
    later.timestamp += chrono::Duration::minutes(5);
    c.write(|w| w.upsert_rows(&[later])).unwrap();
    let again = EmailIndex::open(&reader).unwrap();
    assert_eq!(inode(&file), ino);
    assert_eq!(again.len(), before.len() + 3);
    let expected = answers(&EmailIndex::build(&reader).unwrap());
    assert_eq!(answers(&again), expected);
    assert_eq!(answers(&EmailIndex::open(&reader).unwrap()), expected);
    assert_eq!(
        answers(&appended),
        answers(&rebuilt),
        "the first update's map"
    );

    // More new rows than the room left after the arrays (a quarter more, at least
    // 4,096): the file is written whole, with new room.
    let many: Vec<_> = (0..before.len().max(4096) + 1)
        .map(|i| {
            let mut e = new_msg.clone();
            e.network_message_id = format!("bulk-{i}");
            e
        })
        .collect();
    c.write(|w| w.upsert_rows(&many)).unwrap();
    let grown = EmailIndex::open(&reader).unwrap();
    assert_ne!(inode(&file), ino, "no room left: written whole");
    let ino = inode(&file);
    assert_eq!(
        answers(&grown),
        answers(&EmailIndex::build(&reader).unwrap())
    );

    // A deleted row shifts row numbers: the file is rebuilt and replaced. (The
    // bulk load's de-duplication deletes; here by hand, with the generation bump
    // every write transaction makes.)
    c.connection()
        .execute_batch(
            "BEGIN;
             DELETE FROM email_events WHERE \"NetworkMessageId\" = 'appended-message-2';
             UPDATE generation SET value = value + 1;
             COMMIT;",
        )
        .unwrap();
    let after_delete = EmailIndex::open(&reader).unwrap();
    assert_ne!(inode(&file), ino, "rewritten");
    assert_eq!(after_delete.len(), grown.len() - 1);
    assert_eq!(
        answers(&after_delete),
        answers(&EmailIndex::build(&reader).unwrap())
    );
    let _ = std::fs::remove_dir_all(&dir);
}
