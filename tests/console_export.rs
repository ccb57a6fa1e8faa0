//! The console's `e` exports what `whalewatch query --format csv` exports for the
//! same view: every `EmailEvents` column with its raw value (not the grid's visible,
//! formatted cells), into owner-only files, and says where and how many rows. A real
//! simulator, a real refresh, the real binary for the CLI side; the console's
//! `update` and export writer over the same cache.

mod common;

use std::collections::BTreeMap;

use common::refresh::{SimProcess, Workspace, WorldFlags};
use whalewatch::model::email::EmailEvent;
use whalewatch::model::hunting::HuntingRow;
use whalewatch::ui::action::Action;
use whalewatch::ui::commands::Keymap;
use whalewatch::ui::state::{Session, State};
use whalewatch::ui::update::{Effect, Msg, update};

/// The lines of a CSV file, header first, then the records' lines sorted (the CLI
/// streams in cache order, the console writes in the grid's order).
fn lines(csv: &str) -> (String, Vec<String>) {
    let mut it = csv.lines().map(str::to_string);
    let header = it.next().unwrap_or_default();
    let mut rest: Vec<String> = it.collect();
    rest.sort();
    (header, rest)
}

#[test]
fn console_export_writes_every_column_raw_as_the_cli_does_into_owner_only_files() {
    let sim = SimProcess::start(&WorldFlags::small(1414), &[]);
    let mut ws = Workspace::new("console-export");
    ws.add_sim_profile("t", &sim);
    ws.refresh(&[]).expect_ok("refresh");
    let filter = "threat:phish";
    let cli = ws.ok(&[
        "--profile",
        "t",
        "query",
        "emails",
        filter,
        "--format",
        "csv",
    ]);

    let cache = ws.cache_file("t");
    let quick = whalewatch::ui::data::load_quick(&cache).expect("load");
    let emails = whalewatch::ui::data::load_emails(&cache).expect("index");
    let mut s = State::new(
        Session {
            profile: "t".into(),
            ..Session::default()
        },
        quick.with_emails(emails),
        Keymap::new(&BTreeMap::new()).expect("keymap"),
        chrono::Utc::now(),
    );
    update(&mut s, Msg::Action(Action::Run(format!("emails {filter}"))));
    let shown = s.grid().expect("grid").columns.len();
    let effects = update(&mut s, Msg::Action(Action::Export));
    let Some(Effect::Export(job)) = effects.into_iter().next() else {
        panic!("no export")
    };
    let dir = ws.dir.path().join("exports");
    let written = whalewatch::ui::export::write(&job, &cache, &dir).expect("export");

    let csv = std::fs::read_to_string(&written.csv).expect("csv");
    let (header, rows) = lines(&csv);
    assert_eq!(header, EmailEvent::COLUMNS.join(","), "every column");
    assert!(EmailEvent::COLUMNS.len() > shown);
    assert_eq!(written.rows, job.rows.len());
    assert!(written.rows > 0);
    let (cli_header, cli_rows) = lines(&cli);
    assert_eq!(header, cli_header);
    assert_eq!(
        rows, cli_rows,
        "the same raw values as `query --format csv`"
    );
    let message = written.to_string();
    assert!(
        message.contains(&written.csv.display().to_string())
            && message.contains(&format!("exported {} rows", written.rows)),
        "{message}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&written.json).expect("json"))
            .expect("json parses");
    assert_eq!(json.as_array().map(Vec::len), Some(written.rows));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in [&written.csv, &written.json] {
            let mode = std::fs::metadata(f).expect("file").permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", f.display());
        }
        let mode = std::fs::metadata(&dir).expect("dir").permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
}
