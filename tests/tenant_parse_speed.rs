//! Hunting-row parse rate. Run with:
//! `cargo test --release --test tenant_parse_speed -- --ignored --nocapture`

use std::time::Instant;
use whalewatch::model::{EmailEvent, HuntingResult, HuntingRows};

/// A realistic `EmailEvents` response with `n` rows (all documented columns filled).
fn email_events_body(n: usize) -> Vec<u8> {
    let mut out = String::from(
        r#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.security.huntingQueryResults","schema":[{"name":"Timestamp","type":"DateTime"}],"results":["#,
    );
    for i in 0..n {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!(
            r#"{{"Timestamp":"2024-03-{:02}T09:{:02}:{:02}.7688641Z","NetworkMessageId":"{:08x}-58d8-43d0-a890-08dc18c52e6d","InternetMessageId":"<{i}@mail.contoso.example>","SenderMailFromAddress":"bounce-{i}@news.example","SenderFromAddress":"billing@fabrikam.example","SenderDisplayName":"Fabrikam Billing","SenderObjectId":"","SenderMailFromDomain":"news.example","SenderFromDomain":"fabrikam.example","SenderIPv4":"203.0.113.{}","SenderIPv6":"","RecipientEmailAddress":"user{}@contoso.com","RecipientObjectId":"5c1a7e2e-1f0b-4b8e-9d3a-{:012x}","Subject":"Invoice {i} overdue \u00e9","EmailClusterId":{},"EmailDirection":"Inbound","DeliveryAction":"Delivered","DeliveryLocation":"Inbox/folder","ThreatTypes":"Phish","ThreatNames":"","DetectionMethods":"{{\"Phish\":[\"URL detonation reputation\"]}}","ConfidenceLevel":"{{\"Phish\":\"High\"}}","BulkComplaintLevel":{},"EmailAction":"","EmailActionPolicy":"","EmailActionPolicyGuid":"","AuthenticationDetails":"{{\"SPF\":\"pass\",\"DKIM\":\"pass\",\"DMARC\":\"pass\",\"CompAuth\":\"pass\"}}","AttachmentCount":1,"UrlCount":3,"EmailLanguage":"en","Connectors":"","OrgLevelAction":"","OrgLevelPolicy":"","UserLevelAction":"","UserLevelPolicy":"","ReportId":"{i}","AdditionalFields":"{{}}","LatestDeliveryLocation":"Quarantine","LatestDeliveryAction":"Moved to quarantine","Context":""}}"#,
            i % 28 + 1,
            i % 60,
            i % 60,
            i,
            i % 250,
            i % 5000,
            i,
            3074457345618258602i64 - i as i64,
            i % 10,
        ));
    }
    out.push_str("]}");
    out.into_bytes()
}

#[test]
fn typed_and_generic_parsers_agree() {
    let body = email_events_body(50);
    let typed = HuntingRows::<EmailEvent>::from_slice(&body).unwrap_or_else(|e| panic!("{e}"));
    let generic: HuntingResult = serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{e}"));
    let via_generic: Vec<EmailEvent> = generic.rows().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(typed.rows, via_generic);
    assert_eq!(typed.rows[7].bulk_complaint_level, 7);
    assert_eq!(
        typed.rows[7].latest_delivery_location,
        Some(whalewatch::model::DeliveryLocation::Quarantine)
    );
}

#[test]
#[ignore = "measurement; run in release"]
fn hunting_row_parse_rate() {
    let n = 200_000;
    let body = email_events_body(n);
    let mut best = f64::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        let parsed = HuntingRows::<EmailEvent>::from_slice(&body).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.rows.len(), n);
        best = best.min(start.elapsed().as_secs_f64());
    }
    let mut generic_best = f64::MAX;
    for _ in 0..2 {
        let start = Instant::now();
        let generic: HuntingResult =
            serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{e}"));
        let rows: Vec<EmailEvent> = generic.rows().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rows.len(), n);
        generic_best = generic_best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "EmailEvents: {} bytes/row; typed {:.0} rows/s ({:.1} MB/s); via generic Value rows {:.0} rows/s",
        body.len() / n,
        n as f64 / best,
        body.len() as f64 / best / 1e6,
        n as f64 / generic_best
    );
}
