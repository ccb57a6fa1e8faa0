//! Repairs for JSON the service sends but serde_json refuses.

/// Replaces every lone UTF-16 surrogate escape (`\ud800` without its partner, or a low
/// surrogate alone) by `\ufffd`, in place, and returns how many were replaced.
///
/// Mail subjects are attacker-controlled and Microsoft's services pass a lone surrogate
/// through as an escape; serde_json (rightly) refuses it, which would fail a whole page or
/// hunting window on every refresh. The escape and its replacement are both six bytes, so
/// offsets in the body stay valid. Callers run this only after a parse failed, so the hot
/// path pays nothing.
pub fn replace_lone_surrogates(body: &mut [u8]) -> usize {
    let mut replaced = 0;
    let mut i = 0;
    while i + 1 < body.len() {
        if body[i] != b'\\' {
            i += 1;
            continue;
        }
        // A backslash outside a string is invalid JSON anyway; inside one, it and the
        // next byte form an escape, so `\\ud800` is a backslash then text, not a surrogate.
        if body[i + 1] != b'u' {
            i += 2;
            continue;
        }
        match unit_at(body, i) {
            Some(0xD800..=0xDBFF) => {
                if matches!(unit_at(body, i + 6), Some(0xDC00..=0xDFFF)) {
                    i += 12;
                } else {
                    body[i + 2..i + 6].copy_from_slice(b"fffd");
                    replaced += 1;
                    i += 6;
                }
            }
            Some(0xDC00..=0xDFFF) => {
                body[i + 2..i + 6].copy_from_slice(b"fffd");
                replaced += 1;
                i += 6;
            }
            _ => i += 2,
        }
    }
    replaced
}

/// The UTF-16 unit of the `\uXXXX` escape starting at `at`, if there is one.
fn unit_at(body: &[u8], at: usize) -> Option<u16> {
    let esc = body.get(at..at + 6)?;
    if esc[0] != b'\\' || esc[1] != b'u' {
        return None;
    }
    let hex = std::str::from_utf8(&esc[2..]).ok()?;
    u16::from_str_radix(hex, 16).ok()
}

/// An entity that is only meaningful with its key (`id`): one without it is rejected,
/// never merged (PascalCase keys once turned 2,000 users into one user with id "").
pub trait Keyed {
    /// The key; empty when the record had none.
    fn key(&self) -> &str;
}

/// A record kept as JSON (the posture sources parse each one themselves): its `id`.
impl Keyed for serde_json::Value {
    fn key(&self) -> &str {
        self.get("id")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
    }
}

/// A record the service sent that whalewatch could not take: kept verbatim, with why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RejectedRecord {
    /// Why it was rejected (the parser's message, or the missing key).
    pub reason: String,
    /// The record's JSON as received.
    pub raw: String,
}

/// Parses one record of a collection. A lone surrogate escape becomes U+FFFD; keys that
/// differ from the documented spelling only in case (`Id`, `DisplayName`, as in some of
/// Microsoft's examples) are read as documented; a record still without its key, or
/// that does not parse, is rejected with the reason.
pub fn parse_record<T: serde::de::DeserializeOwned + Keyed>(
    raw: &str,
) -> Result<T, RejectedRecord> {
    let reject = |reason: String| RejectedRecord {
        reason,
        raw: raw.to_owned(),
    };
    let parsed = match serde_json::from_str::<T>(raw) {
        Ok(t) => t,
        Err(e) => {
            let mut bytes = raw.as_bytes().to_vec();
            if replace_lone_surrogates(&mut bytes) == 0 {
                return Err(reject(e.to_string()));
            }
            serde_json::from_slice(&bytes).map_err(|_| reject(e.to_string()))?
        }
    };
    if !parsed.key().is_empty() {
        return Ok(parsed);
    }
    let recased = serde_json::from_str::<serde_json::Value>(raw)
        .ok()
        .and_then(documented_case)
        .and_then(|v| serde_json::from_value::<T>(v).ok())
        .filter(|t| !t.key().is_empty());
    recased.ok_or_else(|| reject("the record has no id".to_owned()))
}

/// The object with its top-level keys in camelCase (`Id` → `id`), when it has an id
/// under another case; `None` when recasing cannot help.
fn documented_case(v: serde_json::Value) -> Option<serde_json::Value> {
    let serde_json::Value::Object(map) = v else {
        return None;
    };
    if !map
        .keys()
        .any(|k| k != "id" && k.eq_ignore_ascii_case("id"))
    {
        return None;
    }
    let recased = map
        .into_iter()
        .map(|(k, v)| {
            let mut chars = k.chars();
            let key = match chars.next() {
                Some(first) if !k.starts_with('@') => {
                    first.to_lowercase().chain(chars).collect::<String>()
                }
                _ => k,
            };
            (key, v)
        })
        .collect();
    Some(serde_json::Value::Object(recased))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(s: &str) -> (String, usize) {
        let mut b = s.as_bytes().to_vec();
        let n = replace_lone_surrogates(&mut b);
        (String::from_utf8(b).unwrap(), n)
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        assert_eq!(
            fixed(r#"{"s":"a\ud800b"}"#),
            (r#"{"s":"a\ufffdb"}"#.into(), 1)
        );
        assert_eq!(fixed(r#"{"s":"\uDC00"}"#), (r#"{"s":"\ufffd"}"#.into(), 1));
        assert_eq!(
            fixed(r#"{"s":"\ud800\ud800"}"#),
            (r#"{"s":"\ufffd\ufffd"}"#.into(), 2)
        );
        assert_eq!(fixed(r#"{"s":"\ud800"#), (r#"{"s":"\ufffd"#.into(), 1));
        let (text, _) = fixed(r#"{"s":"x\ud800y"}"#);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["s"], "x\u{fffd}y");
    }

    #[derive(serde::Deserialize, Default)]
    #[serde(default, rename_all = "camelCase")]
    struct Thing {
        id: String,
        display_name: String,
    }

    impl Keyed for Thing {
        fn key(&self) -> &str {
            &self.id
        }
    }

    #[test]
    fn records_need_their_key_in_any_case() {
        let ok: Thing = parse_record(r#"{"id":"1","displayName":"a\ud800"}"#).unwrap();
        assert_eq!(
            (ok.id.as_str(), ok.display_name.as_str()),
            ("1", "a\u{fffd}")
        );
        let pascal: Thing = parse_record(r#"{"Id":"2","DisplayName":"b"}"#).unwrap();
        assert_eq!(
            (pascal.id.as_str(), pascal.display_name.as_str()),
            ("2", "b")
        );
        for raw in [
            r#"{"displayName":"c"}"#,
            r#"{"id":""}"#,
            r#"{"ID2":"x"}"#,
            "[1]",
            r#"{"id":5}"#,
        ] {
            let err = parse_record::<Thing>(raw).err().unwrap();
            assert_eq!(err.raw, raw);
            assert!(!err.reason.is_empty());
        }
        assert_eq!(
            parse_record::<Thing>(r#"{"displayName":"c"}"#)
                .err()
                .unwrap()
                .reason,
            "the record has no id"
        );
    }

    #[test]
    fn pairs_escaped_backslashes_and_short_escapes_are_left_alone() {
        for s in [
            r#"{"s":"\ud83d\ude00"}"#,
            r#"{"s":"\\ud800"}"#,
            r#"{"s":"\u00e9\n"}"#,
            r#"{"s":"\ud8"}"#,
            "\\",
        ] {
            assert_eq!(fixed(s), (s.to_owned(), 0), "{s}");
        }
    }
}
