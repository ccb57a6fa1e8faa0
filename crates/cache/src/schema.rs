//! The cache schema, as an ordered list of migrations. `PRAGMA user_version` records
//! how many have run; opening a cache runs the rest in one transaction each, so an
//! older cache is upgraded in place and a newer one is refused rather than damaged.

/// Migrations in order; index + 1 is the schema version they produce.
pub const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    r#"
    CREATE TABLE email_events (
        "Timestamp" INTEGER NOT NULL,
        "NetworkMessageId" TEXT NOT NULL,
        "InternetMessageId" TEXT,
        "SenderMailFromAddress" TEXT,
        "SenderFromAddress" TEXT,
        "SenderDisplayName" TEXT,
        "SenderObjectId" TEXT,
        "SenderMailFromDomain" TEXT,
        "SenderFromDomain" TEXT,
        "SenderIPv4" TEXT,
        "SenderIPv6" TEXT,
        "RecipientEmailAddress" TEXT NOT NULL,
        "RecipientObjectId" TEXT,
        "Subject" TEXT,
        "EmailClusterId" INTEGER,
        "EmailDirection" TEXT,
        "DeliveryAction" TEXT,
        "DeliveryLocation" TEXT,
        "ThreatTypes" TEXT,
        "ThreatNames" TEXT,
        "DetectionMethods" TEXT,
        "ConfidenceLevel" TEXT,
        "BulkComplaintLevel" INTEGER,
        "EmailAction" TEXT,
        "EmailActionPolicy" TEXT,
        "EmailActionPolicyGuid" TEXT,
        "AuthenticationDetails" TEXT,
        "AttachmentCount" INTEGER,
        "UrlCount" INTEGER,
        "EmailLanguage" TEXT,
        "Connectors" TEXT,
        "OrgLevelAction" TEXT,
        "OrgLevelPolicy" TEXT,
        "UserLevelAction" TEXT,
        "UserLevelPolicy" TEXT,
        "ReportId" TEXT,
        "AdditionalFields" TEXT,
        "LatestDeliveryLocation" TEXT,
        "LatestDeliveryAction" TEXT,
        "Context" TEXT
    );
    CREATE UNIQUE INDEX email_events_key ON email_events ("NetworkMessageId", "RecipientEmailAddress");
    CREATE INDEX email_events_time ON email_events ("Timestamp");

    CREATE TABLE email_urls (
        "Timestamp" INTEGER NOT NULL,
        "NetworkMessageId" TEXT NOT NULL,
        "Url" TEXT NOT NULL,
        "UrlDomain" TEXT,
        "UrlLocation" TEXT NOT NULL,
        "ReportId" TEXT
    );
    CREATE UNIQUE INDEX email_urls_key ON email_urls ("NetworkMessageId", "Url", "UrlLocation");

    CREATE TABLE email_attachments (
        "Timestamp" INTEGER NOT NULL,
        "NetworkMessageId" TEXT NOT NULL,
        "SenderFromAddress" TEXT,
        "SenderDisplayName" TEXT,
        "SenderObjectId" TEXT,
        "RecipientEmailAddress" TEXT NOT NULL,
        "RecipientObjectId" TEXT,
        "FileName" TEXT NOT NULL,
        "FileType" TEXT,
        "SHA256" TEXT NOT NULL,
        "FileSize" INTEGER,
        "ThreatTypes" TEXT,
        "ThreatNames" TEXT,
        "DetectionMethods" TEXT,
        "ReportId" TEXT
    );
    CREATE UNIQUE INDEX email_attachments_key ON email_attachments ("NetworkMessageId", "RecipientEmailAddress", "SHA256", "FileName");

    CREATE TABLE post_delivery_events (
        "Timestamp" INTEGER NOT NULL,
        "NetworkMessageId" TEXT NOT NULL,
        "InternetMessageId" TEXT,
        "Action" TEXT NOT NULL,
        "ActionType" TEXT NOT NULL,
        "ActionTrigger" TEXT,
        "ActionResult" TEXT,
        "RecipientEmailAddress" TEXT NOT NULL,
        "DeliveryLocation" TEXT,
        "ThreatTypes" TEXT,
        "DetectionMethods" TEXT,
        "ReportId" TEXT
    );
    CREATE UNIQUE INDEX post_delivery_events_key ON post_delivery_events ("NetworkMessageId", "RecipientEmailAddress", "Timestamp", "ActionType", "Action");

    CREATE TABLE url_clicks (
        "Timestamp" INTEGER NOT NULL,
        "Url" TEXT NOT NULL,
        "ActionType" TEXT,
        "AccountUpn" TEXT NOT NULL,
        "Workload" TEXT,
        "NetworkMessageId" TEXT NOT NULL,
        "ThreatTypes" TEXT,
        "DetectionMethods" TEXT,
        "IPAddress" TEXT,
        "IsClickedThrough" INTEGER,
        "UrlChain" TEXT,
        "ReportId" TEXT
    );
    CREATE UNIQUE INDEX url_clicks_key ON url_clicks ("NetworkMessageId", "AccountUpn", "Url", "Timestamp");

    CREATE TABLE campaign_messages (
        "Timestamp" INTEGER NOT NULL,
        "CampaignName" TEXT,
        "CampaignId" TEXT NOT NULL,
        "CampaignType" TEXT,
        "CampaignSubtype" TEXT,
        "NetworkMessageId" TEXT NOT NULL,
        "RecipientEmailAddress" TEXT NOT NULL,
        "ReportId" TEXT
    );
    CREATE UNIQUE INDEX campaign_messages_key ON campaign_messages ("CampaignId", "NetworkMessageId", "RecipientEmailAddress");

    CREATE TABLE alerts (
        id TEXT PRIMARY KEY,
        incident_id TEXT,
        last_update INTEGER,
        created INTEGER,
        status TEXT,
        severity TEXT,
        title TEXT,
        raw TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE alert_evidence (
        alert_id TEXT NOT NULL,
        ordinal INTEGER NOT NULL,
        kind TEXT NOT NULL,
        network_message_id TEXT,
        recipient TEXT,
        account_upn TEXT,
        url TEXT,
        PRIMARY KEY (alert_id, ordinal)
    ) WITHOUT ROWID;
    CREATE INDEX alert_evidence_message ON alert_evidence (network_message_id);

    CREATE TABLE incidents (
        id TEXT PRIMARY KEY,
        last_update INTEGER,
        created INTEGER,
        status TEXT,
        severity TEXT,
        display_name TEXT,
        raw TEXT NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE users (
        id TEXT PRIMARY KEY,
        upn TEXT,
        mail TEXT,
        display_name TEXT,
        given_name TEXT,
        surname TEXT,
        department TEXT,
        job_title TEXT,
        country TEXT,
        enabled INTEGER
    ) WITHOUT ROWID;
    CREATE TABLE groups (
        id TEXT PRIMARY KEY,
        display_name TEXT,
        description TEXT,
        mail TEXT
    ) WITHOUT ROWID;
    CREATE TABLE group_members (
        group_id TEXT NOT NULL,
        member_id TEXT NOT NULL,
        member_type TEXT NOT NULL,
        PRIMARY KEY (group_id, member_id)
    ) WITHOUT ROWID;

    CREATE TABLE tags (
        name TEXT PRIMARY KEY,
        builtin INTEGER NOT NULL,
        position INTEGER NOT NULL
    ) WITHOUT ROWID;
    -- source: group | file | rule | member | inferred; detail names which one.
    CREATE TABLE tag_members (
        tag TEXT NOT NULL,
        address TEXT NOT NULL,
        source TEXT NOT NULL,
        detail TEXT NOT NULL,
        PRIMARY KEY (tag, address, source, detail)
    ) WITHOUT ROWID;

    -- One row per refresh source: how far it has been fetched and when.
    CREATE TABLE sync_state (
        source TEXT PRIMARY KEY,
        watermark INTEGER,
        last_success INTEGER,
        last_error TEXT
    ) WITHOUT ROWID;
    "#,
    // 2: triage — the durable outbox of tenant writes, the analyst's journal, notes.
    r#"
    -- Writes the analyst asked for that the tenant has not confirmed yet. A row leaves
    -- the table only in the transaction that stores the tenant's confirmation.
    -- state: queued | sending | conflict | failed. `sending` is committed before the
    -- request goes out, so a crash mid-request is recognised on the next flush.
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        target TEXT NOT NULL,
        payload TEXT NOT NULL,
        base_last_update TEXT,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        seen_count INTEGER,
        last_error TEXT,
        analyst TEXT NOT NULL,
        created INTEGER NOT NULL,
        updated INTEGER NOT NULL
    );
    CREATE INDEX outbox_target ON outbox (target, id);

    -- Every write the analyst made and what became of it (times: Unix milliseconds).
    CREATE TABLE journal (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        time INTEGER NOT NULL,
        analyst TEXT NOT NULL,
        action TEXT NOT NULL,
        target_kind TEXT NOT NULL,
        target TEXT NOT NULL,
        detail TEXT NOT NULL,
        result TEXT NOT NULL,
        message TEXT,
        outbox_id INTEGER
    );
    CREATE INDEX journal_time ON journal (time);

    -- Local notes on an email, alert, campaign or user.
    CREATE TABLE notes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        target_kind TEXT NOT NULL,
        target TEXT NOT NULL,
        text TEXT NOT NULL,
        analyst TEXT NOT NULL,
        created INTEGER NOT NULL
    );
    CREATE INDEX notes_target ON notes (target_kind, target);
    "#,
    // 3: the console's first frame reads the newest alerts by this order; without
    // the index SQLite sorts every alert's JSON to find them.
    r#"
    CREATE INDEX alerts_recent ON alerts (last_update DESC, id);
    "#,
    // 4: recipients Defender protected as priority accounts (mail whose `Context`
    // says so), kept as mail arrives: finding them by scanning every cached message
    // at each refresh cost a read of the whole table. Filled once from the mail
    // already cached.
    r#"
    CREATE TABLE protected_recipients (address TEXT PRIMARY KEY) WITHOUT ROWID;
    INSERT OR IGNORE INTO protected_recipients
        SELECT DISTINCT lower("RecipientEmailAddress") FROM email_events
        WHERE "Context" LIKE '%priority account%';
    "#,
    // 5: the generation every write transaction bumps (`Cache::generation`), so the
    // console knows when its email index is stale, in-place updates included.
    r#"
    CREATE TABLE generation (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
    INSERT INTO generation (id, value) VALUES (1, 1);
    "#,
    // 6: posture sources — each record's JSON as the service sent it (parsed into
    // `model::posture`), with the keys it is looked up by; the imported Exchange
    // snapshot (one row); and the permission or licence a refused source needs.
    r#"
    CREATE TABLE posture_mfa (
        user_id TEXT PRIMARY KEY,
        upn TEXT NOT NULL,
        json TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX posture_mfa_upn ON posture_mfa (upn);
    CREATE TABLE posture_sign_ins (
        id TEXT PRIMARY KEY,
        user_id TEXT,
        upn TEXT,
        time INTEGER NOT NULL,
        json TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX posture_sign_ins_user ON posture_sign_ins (user_id, time);
    CREATE INDEX posture_sign_ins_time ON posture_sign_ins (time);
    CREATE TABLE posture_ca_policies (id TEXT PRIMARY KEY, json TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE posture_memberships (user_id TEXT PRIMARY KEY, json TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE posture_risky_users (
        user_id TEXT PRIMARY KEY,
        upn TEXT,
        json TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE posture_secure_scores (
        id TEXT PRIMARY KEY,
        time INTEGER NOT NULL,
        json TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE posture_secure_controls (id TEXT PRIMARY KEY, json TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE posture_message_traces (
        id TEXT NOT NULL,
        recipient TEXT NOT NULL,
        sender TEXT,
        time INTEGER NOT NULL,
        json TEXT NOT NULL,
        PRIMARY KEY (id, recipient)
    ) WITHOUT ROWID;
    CREATE INDEX posture_message_traces_time ON posture_message_traces (time);
    CREATE TABLE posture_exchange (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        generated INTEGER,
        imported INTEGER NOT NULL,
        json TEXT NOT NULL
    );
    ALTER TABLE sync_state ADD COLUMN grant_needed TEXT;
    "#,
    // 7: records the tenant sent that could not be taken (no key, unreadable, an
    // invalid time), verbatim, for `whalewatch quarantine`. Times: ticks.
    r#"
    CREATE TABLE quarantine (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        source TEXT NOT NULL,
        reason TEXT NOT NULL,
        raw TEXT NOT NULL,
        received INTEGER NOT NULL,
        UNIQUE (source, raw)
    );
    "#,
    // 8: which email rows changed in place since an index was built (one entry per
    // update, by rowid) and how many were deleted, so the email index's column file
    // can take a refresh's new and changed rows without a rebuild
    // (`Cache::mail_log`; a refresh trims it to its newest entries, `mail_trimmed`
    // saying up to which). Triggers, not the writer's code, so every path that
    // changes a row is seen (upserts that differ, post-delivery moves, the bulk
    // load's de-duplication, a `REPLACE`: the connection enables recursive triggers
    // for that). Inserts, the common case, fire nothing.
    r#"
    ALTER TABLE generation ADD COLUMN mail_deletes INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE generation ADD COLUMN mail_trimmed INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE mail_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, row INTEGER NOT NULL);
    CREATE TRIGGER email_events_updated AFTER UPDATE ON email_events BEGIN
        INSERT INTO mail_changes (row) VALUES (new.rowid);
    END;
    CREATE TRIGGER email_events_deleted AFTER DELETE ON email_events BEGIN
        UPDATE generation SET mail_deletes = mail_deletes + 1 WHERE id = 1;
    END;
    "#,
];

/// The schema version that added the `generation` table.
pub const GENERATION_SINCE: i64 = 5;

/// The schema version that added the mail change log (`Cache::mail_log`).
pub const MAIL_LOG_SINCE: i64 = 8;
