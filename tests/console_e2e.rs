//! The console end to end: the real binary (`whalewatch demo`, which refreshes its
//! in-process simulator over loopback, then opens the console on the cache) in a
//! pseudo-terminal, driven by keys as an analyst types them. The screen is read back
//! through a terminal emulator (`vt100`); every byte written is kept and checked.

mod common;
mod escapes;
mod pty;

use base64::Engine;
use pty::{Console, Key, LEAVE_ALTERNATE_SCREEN, SHOW_CURSOR, contains};

/// The breadcrumb line (the second row).
fn crumbs(c: &Console) -> String {
    c.text().lines().nth(1).unwrap_or_default().to_string()
}

/// The row count the breadcrumb line shows: `… (12 rows, by Date ▼)`.
fn rows_shown(c: &Console) -> Option<usize> {
    let line = crumbs(c);
    let (head, _) = line.rsplit_once(" rows,")?;
    let n = head.rsplit_once('(')?.1;
    n.replace(',', "").trim().parse().ok()
}

/// Waits until the console has loaded everything: the email index and the rest
/// (alerts, campaigns, users, posture) load side by side in either order, and the
/// status line says each half's state (`N emails indexed`, `N alerts` once every
/// alert is in; `loading alerts…` before).
fn wait_loaded(c: &mut Console) {
    c.wait_until("the index and every alert, campaign and user", |s| {
        s.contains("emails indexed") && !s.contains("loading alerts, campaigns")
    });
}

/// The line of the related-views menu the cursor is on.
fn menu_choice(c: &Console) -> String {
    c.text()
        .lines()
        .find_map(|l| l.split_once('▸').map(|(_, r)| r.to_string()))
        .unwrap_or_default()
}

/// `q` walks back view by view (at most `views` presses) and then quits; the
/// terminal is handed back restored.
fn quit_by_q(c: &mut Console, views: usize) {
    for _ in 0..views {
        let before = crumbs(c);
        c.type_text("q");
        c.wait_screen("q to go back or quit", |s| {
            !s.alternate_screen() || s.contents().lines().nth(1).is_none_or(|l| l != before)
        });
        if !c.screen.screen().alternate_screen() || c.child_exited() {
            break;
        }
    }
    assert_restored(c, "q");
}

/// The terminal was handed back: the last things written leave the alternate screen
/// and show the cursor, and the program exited successfully.
fn assert_restored(c: &mut Console, how: &str) {
    let status = c.wait_exit();
    assert!(status.success(), "{how}: exit {status:?}");
    let tail = &c.bytes[c.bytes.len().saturating_sub(200)..];
    let leave = tail
        .windows(LEAVE_ALTERNATE_SCREEN.len())
        .rposition(|w| w == LEAVE_ALTERNATE_SCREEN);
    let show = tail
        .windows(SHOW_CURSOR.len())
        .rposition(|w| w == SHOW_CURSOR);
    assert!(
        leave.is_some() && show.is_some(),
        "{how}: the output does not end by restoring the terminal: {:?}",
        String::from_utf8_lossy(tail)
    );
    // Nothing is drawn after the restore: the shell's screen is left as it was.
    let after = &tail[leave.unwrap_or(0)..];
    assert!(
        !contains(after, b"\x1b[?1049h") && !contains(after, b"\x1b[?25l"),
        "{how}: drew after restoring: {:?}",
        String::from_utf8_lossy(after)
    );
    assert!(
        !c.screen.screen().alternate_screen(),
        "{how}: still on the alternate screen"
    );
    assert!(
        !c.screen.screen().hide_cursor(),
        "{how}: the cursor is still hidden"
    );
}

#[test]
fn an_analyst_investigates_a_priority_phish_and_copies_the_view() {
    let mut c = Console::demo(&[]);
    wait_loaded(&mut c);
    assert!(
        c.screen.screen().alternate_screen(),
        "console not on the alternate screen"
    );

    // Emails, then only mail to priority accounts.
    c.type_text("2");
    c.wait_for("[2 Emails]");
    let all = rows_shown(&c).expect("a row count");
    c.type_text("P");
    c.wait_for("tag: Priority account");
    let priority = rows_shown(&c).expect("a row count");
    assert!(0 < priority && priority < all, "{priority} of {all}");

    // Phish only (v cycles All → Malware → Phish), from the top.
    c.type_text("vv");
    c.wait_for("(Phish)");
    let phish = rows_shown(&c).expect("a row count");
    assert!(phish > 0);
    c.type_text("gg");

    // Open phish after phish (j in the flyout moves to the next one): read the
    // message, jump to its alert when an alert names it, open its campaign when it
    // belongs to one. (In this world no priority phish has both.)
    c.press(&[Key::Enter]);
    let (mut alert_seen, mut campaign_seen) = (false, false);
    for i in 1..=phish {
        if alert_seen && campaign_seen {
            break;
        }
        if i > 1 {
            c.type_text("j");
        }
        c.wait_until(&format!("message {i}/{phish} loaded"), |s| {
            s.contains(&format!(" {i}/{phish} ")) && s.contains("Summary")
        });
        assert!(crumbs(&c).contains("› message"), "{}", crumbs(&c));
        // The world's 2,000-character subject fills the first screen of its flyout.
        if !c.text().contains("Authentication") {
            continue;
        }
        // The flyout: authentication verdicts, the timeline, ZAP.
        let flyout = c.text();
        for want in [
            "SPF",
            "DKIM",
            "DMARC",
            "Composite",
            "Timeline",
            "delivered:",
            "ZAP",
        ] {
            assert!(flyout.contains(want), "flyout lacks {want}:\n{flyout}");
        }
        c.type_text("R");
        c.wait_for("related · enter opens");
        let menu = c.text();
        if !alert_seen && menu.contains("alerts naming this message") {
            alert_seen = true;
            assert!(
                menu_choice(&c).contains("alerts naming this message"),
                "the alerts come first: {}",
                menu_choice(&c)
            );
            c.press(&[Key::Enter]);
            c.wait_until("the message's alerts", |s| {
                s.contains("[1 Alerts]") && s.contains("› alerts naming this message")
            });
            let alerts = rows_shown(&c).expect("a row count");
            assert!(alerts >= 1, "{}", c.text());
            c.press(&[Key::Esc]);
            c.wait_until("the message again", |s| {
                s.contains(&format!(" {i}/{phish} ")) && s.contains("Authentication")
            });
            if menu.contains("open the campaign") {
                c.type_text("R");
                c.wait_for("related · enter opens");
            }
        }
        if !campaign_seen && menu.contains("open the campaign") {
            campaign_seen = true;
            for _ in 0..20 {
                if menu_choice(&c).contains("open the campaign") {
                    break;
                }
                let before = menu_choice(&c);
                c.type_text("j");
                c.wait_until("the menu cursor to move", |s| {
                    s.lines()
                        .find_map(|l| l.split_once('▸').map(|(_, r)| r.to_string()))
                        .is_some_and(|r| r != before)
                });
            }
            assert!(menu_choice(&c).contains("open the campaign"));
            c.press(&[Key::Enter]);
            c.wait_until("the campaign", |s| {
                s.contains("[3 Campaigns]")
                    && s.lines().nth(1).is_some_and(|l| {
                        l.contains("› open the campaign") && l.contains("(1 rows,")
                    })
            });
            c.press(&[Key::Esc]);
            c.wait_until("the message again", |s| {
                s.contains(&format!(" {i}/{phish} ")) && s.contains("Authentication")
            });
        }
        if c.text().contains("related · enter opens") {
            c.press(&[Key::Esc]);
            c.wait_until("the menu to close", |s| {
                !s.contains("related · enter opens")
            });
        }
    }
    assert!(alert_seen, "no priority phish is named by an alert");
    assert!(campaign_seen, "no priority phish belongs to a campaign");

    // Back to the priority grid (esc walks the stack), all mail, the Sender domain
    // column, and its frequency table.
    while crumbs(&c).contains('›') {
        let before = crumbs(&c);
        c.press(&[Key::Esc]);
        c.wait_until("the view to close", |s| {
            s.lines().nth(1).is_some_and(|l| l != before)
        });
    }
    c.type_text("vv");
    c.wait_until("all mail", |s| {
        s.lines().nth(1).is_some_and(|l| l.starts_with("Emails  ("))
    });
    assert_eq!(rows_shown(&c), Some(priority));
    c.type_text("lllll");
    c.type_text("F");
    c.wait_for("F Sender domain");
    let table = c.text();
    assert!(table.contains("values)"), "{table}");

    // Back, all tags again, and the view from the command line.
    c.press(&[Key::Esc]);
    c.wait_until("the grid", |s| !s.contains("F Sender domain"));
    c.type_text("P");
    c.wait_for("tag: all");
    c.type_text(":emails tag:Finance threat:phish since:7d");
    c.press(&[Key::Enter]);
    c.wait_for("tag:Finance threat:phish since:7d");
    let finance = rows_shown(&c).expect("a row count");
    assert!(finance > 0, "{}", c.text());

    // Y copies the view line with OSC 52.
    let before = c.bytes.len();
    c.type_text("Y");
    let line = "whalewatch --profile 'demo' tui --view 'emails tag:Finance threat:phish since:7d'";
    let b64 = base64::engine::general_purpose::STANDARD.encode(line);
    c.wait_for_bytes(before, format!("\x1b]52;c;{b64}").as_bytes());
    c.wait_for("copied view line");
    assert!(
        c.screen.callbacks().clipboard.contains(&b64),
        "{:?}",
        c.screen.callbacks().clipboard
    );

    // Incidents: `:incidents` opens them newest update first; Enter opens one with its
    // alerts and accounts; `s` sets its status, written back to the tenant.
    c.type_text(":incidents");
    c.press(&[Key::Enter]);
    c.wait_for("[7 Incidents]");
    assert!(crumbs(&c).contains("by Last update ▼"), "{}", crumbs(&c));
    c.press(&[Key::Enter]);
    c.wait_until("the incident flyout", |s| {
        s.contains("› incident") && s.contains("Affected accounts") && s.contains("Alerts (")
    });
    c.type_text("s");
    c.wait_for("Set the status of 1 incident");
    for _ in 0..3 {
        if menu_choice(&c).starts_with(" resolved ") {
            break;
        }
        let before = menu_choice(&c);
        c.type_text("j");
        c.wait_until("the menu cursor to move", |s| {
            s.lines()
                .find_map(|l| l.split_once('▸').map(|(_, r)| r.to_string()))
                .is_some_and(|r| r != before)
        });
    }
    assert!(
        menu_choice(&c).starts_with(" resolved "),
        "{}",
        menu_choice(&c)
    );
    c.press(&[Key::Enter]);
    c.wait_for("1 sent");
    c.press(&[Key::Esc]);
    c.wait_until("the incidents grid", |s| {
        s.lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("Incidents  ("))
    });

    // q walks back, then quits.
    quit_by_q(&mut c, 10);

    // Nothing in the whole session wrote a title, a hyperlink, a bell or a C1/bidi
    // character: the only OSC is the copy.
    let problems = escapes::problems(&c.bytes);
    assert!(problems.is_empty(), "{problems:?}");
    assert!(c.screen.callbacks().titles.is_empty());
    assert_eq!(c.screen.callbacks().bells, 0);
}

/// Posture → a failing priority account → `R` → their sign-ins, on the demo world
/// whose simulator plants the posture gaps (`sim stats` names them).
#[test]

fn an_analyst_walks_posture_to_a_failing_vips_sign_ins() {
    let mut c = Console::demo(&[]);
    c.wait_for("[1 Alerts]");
    c.type_text("5");
    c.wait_for("[5 Posture]");
    // What the analyst waits for: the priority accounts' rows (the index and the
    // posture load side by side, in either order; "emails indexed" says nothing
    // about the posture). Until then the pane says it is loading.
    c.wait_until("the posture rows", |s| {
        let crumbs = s.lines().nth(1).unwrap_or_default();
        !s.contains("loading posture") && crumbs.contains(" rows,") && !crumbs.contains("(0 rows")
    });
    assert!(c.text().contains("Secure Score"), "{}", c.text());
    // Worst first: the first row fails.
    c.type_text(":posture verdict:fail");
    c.press(&[Key::Enter]);
    c.wait_for("verdict:fail");
    let failing = rows_shown(&c).expect("a row count");
    assert!(failing > 0, "the demo plants failing priority accounts");
    c.press(&[Key::Enter]);
    c.wait_until("the posture flyout", |s| {
        s.contains("ca-mfa ·") && s.contains("Verdict")
    });
    assert!(c.text().contains("fail — failing:"), "{}", c.text());
    c.type_text("R");
    c.wait_for("related · enter opens");
    assert!(
        menu_choice(&c).contains("sign-ins of this account"),
        "sign-ins come first: {}",
        menu_choice(&c)
    );
    c.press(&[Key::Enter]);
    c.wait_for("[6 Sign-ins]");
    assert!(
        crumbs(&c).contains("sign-ins of this account upn:"),
        "{}",
        crumbs(&c)
    );
    let screen = c.text();
    assert!(
        screen.contains("Client app") && rows_shown(&c).is_some_and(|n| n > 0),
        "their sign-ins are listed:\n{screen}"
    );
    quit_by_q(&mut c, 8);
}

/// Threat Explorer's tabs: Top URLs of the phish, a URL's mail, the click table and
/// the clicked message, Top targeted users and Top malware families.
#[test]
fn an_analyst_walks_threat_explorers_tabs() {
    let mut c = Console::demo(&[]);
    wait_loaded(&mut c);
    c.type_text("8");
    c.wait_for("[8 Top URLs]");
    c.wait_until("the URL table", |s| {
        s.contains("Clicked through") && s.contains("Recipients")
    });
    c.type_text(":urls threat:phish");
    c.press(&[Key::Enter]);
    c.wait_for("Top URLs threat:phish");
    assert!(rows_shown(&c).is_some_and(|n| n > 0), "{}", c.text());
    c.press(&[Key::Enter]);
    c.wait_for("[2 Emails]");
    assert!(crumbs(&c).contains("threat:phish url:"), "{}", crumbs(&c));
    c.type_text("9");
    c.wait_for("[9 Top clicks]");
    c.wait_until("the click table", |s| {
        s.contains("ClickAllowed") || s.contains("ClickBlocked")
    });
    c.press(&[Key::Enter]);
    c.wait_for("the message clicked nmid:");
    assert_eq!(rows_shown(&c), Some(1), "{}", c.text());
    c.type_text("U");
    c.wait_for("Top targeted users");
    c.type_text("2M");
    c.wait_for("Top malware families");
    assert!(!c.text().contains("(empty)"), "{}", c.text());
    quit_by_q(&mut c, 8);
}

#[test]
fn sigterm_restores_the_terminal() {
    let mut c = Console::demo(&[]);
    wait_loaded(&mut c);
    c.type_text("2");
    c.wait_for("[2 Emails]");
    c.signal(libc::SIGTERM);
    assert_restored(&mut c, "SIGTERM");
}

#[test]
fn sighup_restores_the_terminal() {
    let mut c = Console::demo(&[]);
    wait_loaded(&mut c);
    c.press(&[Key::Enter]);
    c.wait_for("› alert");
    c.signal(libc::SIGHUP);
    assert_restored(&mut c, "SIGHUP");
}

#[test]
fn closing_the_terminal_ends_the_console() {
    let mut c = Console::demo(&[]);
    wait_loaded(&mut c);
    c.close();
    let status = c.wait_exit_closed();
    assert!(status.success(), "exit {status:?}");
}

#[test]
fn the_console_survives_a_tiny_terminal_and_recovers() {
    let mut c = Console::demo(&[]);
    wait_loaded(&mut c);
    c.type_text("2");
    c.wait_for("[2 Emails]");
    c.resize(20, 5);
    c.wait_for("terminal too small");
    c.resize(160, 48);
    c.wait_until("the console again", |s| {
        s.contains("[2 Emails]") && s.contains("emails indexed") && !s.contains("too small")
    });
    // Still answering keys.
    c.type_text("1");
    c.wait_for("[1 Alerts]");
    c.type_text("q");
    assert_restored(&mut c, "q after a resize");
}

#[test]
fn an_analyst_searches_narrows_the_range_saves_the_view_and_runs_it_on_the_tenant() {
    let mut c = Console::demo(&[]);
    wait_loaded(&mut c);
    // ctrl-p: the fuzzy search ranks as it is typed; enter filters the mail by the value.
    c.type_text("\x10");
    c.wait_for("search ·");
    c.type_text("invoice");
    c.wait_for("matching values");
    c.press(&[Key::Enter]);
    c.wait_until("the mail filtered by the chosen value", |s| {
        s.lines().nth(1).is_some_and(|l| l.contains("› Emails "))
    });
    // ctrl-t: the header shows the range every count is within.
    c.type_text("\x14");
    c.wait_for("[last 1h]");
    c.type_text(":save e2e-view");
    c.press(&[Key::Enter]);
    c.wait_for("saved view `e2e-view`");
    // ctrl-r: the same view on the tenant, with a badge; esc returns to the cache.
    c.type_text("\x12");
    c.wait_for("[remote]");
    c.wait_until("the remote figures", |s| {
        s.contains("on the tenant:") && s.contains("· done ·")
    });
    c.press(&[Key::Esc]);
    c.wait_until("the local view again", |s| !s.contains("[remote]"));
    for _ in 0..6 {
        c.type_text("q");
        std::thread::sleep(std::time::Duration::from_millis(100));
        if !c.screen.screen().alternate_screen() || c.child_exited() {
            break;
        }
    }
    assert_restored(&mut c, "q");
}
