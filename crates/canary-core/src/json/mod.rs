//! Canonical JSON (DESIGN §3.2): RFC 8785 (JCS) restricted to objects, arrays,
//! strings, booleans and integers in `0..=2^53-1`.
//!
//! [`parse_strict`] reads bytes into a [`serde_json::Value`] and refuses what
//! the restricted model cannot hold (duplicate keys, floats, null, negative or
//! too large integers). [`canonicalize`] writes such a value back in its one
//! canonical form. A payload is canonical when `canonicalize(parse(b)) == b`.

//!
//! The module is in four parts: the strict reader ([`parse_strict`], in
//! `reader.rs`), the canonical writer ([`canonicalize`], `writer.rs`), and the
//! one-pass fast path for bytes that are already canonical (`fast.rs`, with
//! the object counter that guards it, `counter.rs`).

mod counter;
mod fast;
mod reader;
mod writer;

use serde::de::DeserializeSeed as _;
use serde_json::Value;

pub(crate) use counter::objects_written;
pub(crate) use fast::{from_canonical, is_canonical_fast};
use reader::StrictSeed;
use writer::write_value;

/// The largest integer a canonical payload may carry (2^53 - 1, the largest
/// integer every JSON implementation represents exactly).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Nesting depth beyond which a payload is refused (no document comes close).
const MAX_DEPTH: usize = 32;

/// Why bytes are not acceptable payload JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    /// The bytes are not JSON, or break a rule of the restricted model; the
    /// message comes from the parser and names the line and column.
    #[error("malformed JSON: {0}")]
    Syntax(String),
    /// A value that canonical payloads cannot contain (float, null, out-of-range
    /// integer) was found while writing.
    #[error("value not allowed in a canonical payload: {0}")]
    Unsupported(&'static str),
}

/// Parses `bytes` as JSON under the restricted model.
///
/// Rejects invalid UTF-8, duplicate object keys, floats (any number with a
/// fraction or exponent), `null`, negative integers, integers above
/// [`MAX_SAFE_INTEGER`], nesting deeper than 32 and trailing data.
pub fn parse_strict(bytes: &[u8]) -> Result<Value, JsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = StrictSeed { depth: 0 }
        .deserialize(&mut de)
        .map_err(|e| JsonError::Syntax(e.to_string()))?;
    de.end().map_err(|e| JsonError::Syntax(e.to_string()))?;
    Ok(value)
}

/// Writes `value` in RFC 8785 canonical form: no whitespace, object members
/// sorted by the UTF-16 code units of their keys, minimal string escapes.
pub fn canonicalize(value: &Value) -> Result<Vec<u8>, JsonError> {
    let mut out = Vec::new();
    write_value(value, &mut out)?;
    Ok(out)
}

/// True when `bytes` parse under the restricted model and are already in
/// canonical form.
pub fn is_canonical(bytes: &[u8]) -> bool {
    is_canonical_fast(bytes)
        || parse_strict(bytes)
            .and_then(|v| canonicalize(&v))
            .is_ok_and(|c| c == bytes)
}

#[cfg(test)]
mod tests {
    use super::fast::FAST_DEPTH;
    use super::*;

    fn canon(s: &str) -> String {
        String::from_utf8(canonicalize(&parse_strict(s.as_bytes()).expect("parses")).expect("ok"))
            .expect("utf8")
    }

    fn rejects(s: &str, needle: &str) {
        match parse_strict(s.as_bytes()) {
            Err(JsonError::Syntax(m)) => assert!(m.contains(needle), "{s}: {m}"),
            other => panic!("{s}: expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn sorts_keys_by_utf16_code_units() {
        // RFC 8785 §3.2.3 example: U+20AC (€) sorts after U+1F600 in UTF-8
        // byte order is wrong; in UTF-16, the surrogate D83D sorts after 20AC.
        assert_eq!(
            canon(r#"{"\u20ac":1,"\ud83d\ude00":2,"\r":3,"1":4,"\u0080":5,"\u00f6":6}"#),
            "{\"\\r\":3,\"1\":4,\"\u{80}\":5,\"\u{f6}\":6,\"\u{20ac}\":1,\"\u{1f600}\":2}"
        );
    }

    #[test]
    fn escapes_strings_as_rfc8785() {
        assert_eq!(
            canon(
                r#"["\u0008\u0009\u000a\u000c\u000d","\u0001\u001f","\"\\","\/","\u007f","\u00e9"]"#
            ),
            "[\"\\b\\t\\n\\f\\r\",\"\\u0001\\u001f\",\"\\\"\\\\\",\"/\",\"\u{7f}\",\"\u{e9}\"]"
        );
    }

    #[test]
    fn removes_whitespace_and_keeps_array_order() {
        assert_eq!(
            canon(" { \"b\" : [ 3 , 1 , 2 ] ,\n\"a\" : true , \"c\": {\"z\":false,\"y\":\"\"} } "),
            r#"{"a":true,"b":[3,1,2],"c":{"y":"","z":false}}"#
        );
    }

    #[test]
    fn integers_at_the_boundary() {
        assert_eq!(canon("9007199254740991"), "9007199254740991");
        assert_eq!(canon("0"), "0");
        rejects("9007199254740992", "above 2^53-1");
        rejects("18446744073709551616", "not an integer");
        rejects("-1", "negative");
    }

    #[test]
    fn rejects_what_the_model_cannot_hold() {
        rejects(r#"{"a":1,"a":1}"#, "duplicate key");
        rejects(r#"{"a":{"b":1,"b":2}}"#, "duplicate key");
        rejects("1.0", "not an integer");
        rejects("1e3", "not an integer");
        rejects("null", "null is not allowed");
        rejects(r#"{"a":null}"#, "null is not allowed");
        rejects(r#"{"a":1} x"#, "trailing");
        rejects(r#""\ud800""#, "escape");
        assert!(parse_strict(b"\"\xff\"").is_err());
        assert!(parse_strict(b"").is_err());
    }

    #[test]
    fn rejects_deep_nesting_without_overflowing() {
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        assert!(parse_strict(deep.as_bytes()).is_err());
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse_strict(ok.as_bytes()).is_ok());
    }

    #[test]
    fn canonical_check() {
        assert!(is_canonical(br#"{"a":[1,"x"],"b":false}"#));
        assert!(!is_canonical(br#"{"b":false,"a":[1,"x"]}"#));
        assert!(!is_canonical(br#"{"a":"\u0041"}"#));
        assert!(!is_canonical(b"{\"a\":1}\n"));
        assert!(!is_canonical(br#"{"a":01}"#));
        assert!(!is_canonical(br#"{"a":-0}"#));
    }

    fn slow_canonical(bytes: &[u8]) -> bool {
        parse_strict(bytes)
            .and_then(|v| canonicalize(&v))
            .is_ok_and(|c| c == bytes)
    }

    /// The fast recognizer may decline canonical bytes (the slow path then
    /// decides), but must never accept bytes the slow path refuses, and what
    /// it accepts must read as the same document both ways.
    #[test]
    fn fast_recognizer_accepts_only_what_the_slow_path_accepts() {
        use crate::document::Statement;
        let statement = canonicalize(&serde_json::json!({
            "issuer": "example.org", "sequence": 12,
            "issued_at": "2026-01-01T00:00:00Z", "next_due": "2026-04-01T00:00:00Z",
            "expires_at": "2026-04-15T00:00:00Z",
            "statements": [{"id": "no-warrants", "text": "We \"never\"\\ got\none\u{1}. \u{e9} \u{1f600} \u{7f}"}],
            "previous": format!("sha256:{}", "ab".repeat(32)),
            "incidents": [{"id": "x", "version": 9007199254740991u64,
                           "digest": format!("sha256:{}", "01".repeat(32))}],
            "notes": "", "final": false,
        }))
        .expect("canonical");
        let samples: Vec<Vec<u8>> = vec![
            statement,
            br#"{"a":[1,"x",[],{}],"b":false,"c":{"d":[true,0]}}"#.to_vec(),
            "[\"\\b\\t\\n\\f\\r\",\"\\u0001\\u001f\",\"\\\"\\\\\",\"\u{7f}\"]"
                .as_bytes()
                .to_vec(),
        ];
        for s in &samples {
            assert!(is_canonical_fast(s), "{}", String::from_utf8_lossy(s));
            assert!(slow_canonical(s));
        }
        // Non-ASCII keys and deep nesting are declined, and decided slowly.
        let declined = [
            r#"{"\r":3,"1":4,"\u0080":5}"#.as_bytes().to_vec(),
            "{\"\u{e9}\":1}".as_bytes().to_vec(),
            ("[".repeat(20) + &"]".repeat(20)).into_bytes(),
        ];
        for s in &declined {
            assert!(!is_canonical_fast(s));
        }
        assert!(slow_canonical(&declined[1]) && slow_canonical(&declined[2]));

        let alphabet = b"\"\\{}[],:019azAbtnfru -.eE\n\x00\x1f\x7f\xc3\xa9\xff";
        let mut accepted = 0;
        for s in &samples {
            for i in 0..=s.len() {
                let mut variants = Vec::new();
                if i < s.len() {
                    let mut d = s.clone();
                    d.remove(i);
                    variants.push(d);
                }
                for &b in alphabet {
                    let mut ins = s.clone();
                    ins.insert(i, b);
                    variants.push(ins);
                    if i < s.len() {
                        let mut rep = s.clone();
                        rep[i] = b;
                        variants.push(rep);
                    }
                }
                for v in &variants {
                    // The one-pass reader accepts exactly what the recognizer
                    // accepts (read as any value), reads what the strict
                    // parser reads, and counts its objects.
                    let read = from_canonical::<Value>(v);
                    assert_eq!(read.is_some(), is_canonical_fast(v));
                    if let Some((value, objects)) = read {
                        assert_eq!(Ok(&value), parse_strict(v).as_ref());
                        assert_eq!(objects, count_objects(&value));
                    }
                    if let Some((statement, _)) = from_canonical::<Statement>(v) {
                        assert_eq!(
                            serde_json::from_value::<Statement>(parse_strict(v).expect("strict"))
                                .ok(),
                            Some(statement)
                        );
                    }
                }
                for v in variants.iter().filter(|v| is_canonical_fast(v)) {
                    accepted += 1;
                    let text = String::from_utf8_lossy(v);
                    assert!(slow_canonical(v), "fast path accepted {text}");
                    if let Ok(fast) = serde_json::from_slice::<Statement>(v) {
                        let slow = parse_strict(v)
                            .map_err(|e| e.to_string())
                            .and_then(|value| {
                                serde_json::from_value::<Statement>(value)
                                    .map_err(|e| e.to_string())
                            });
                        assert_eq!(slow, Ok(fast), "{text}");
                    }
                }
            }
        }
        assert!(accepted > 1000, "only {accepted} mutations were canonical");
    }

    fn count_objects(v: &Value) -> usize {
        match v {
            Value::Object(map) => 1 + map.values().map(count_objects).sum::<usize>(),
            Value::Array(items) => items.iter().map(count_objects).sum(),
            _ => 0,
        }
    }

    /// The one-pass reader declines what no payload needs and what the
    /// recognizer would not accept, and counts objects at every depth.
    #[test]
    fn canonical_reader_declines_and_counts() {
        let read = |s: &str| from_canonical::<Value>(s.as_bytes());
        assert_eq!(
            read(r#"{"a":[{},{"b":{}}],"c":"\u0001\n"}"#).map(|(_, n)| n),
            Some(4)
        );
        for declined in [
            "",
            " 1",
            "1 ",
            "null",
            "1.5",
            "-1",
            "01",
            "9007199254740992",
            r#"{"b":1,"a":2}"#,
            r#"{"a":1,"a":1}"#,
            r#""\u0041""#,
            r#""\/""#,
            "[1,]",
            "{,}",
            "[1 ]",
            "tru",
            "\"x",
        ] {
            assert!(read(declined).is_none(), "{declined}");
        }
        let deep = |n: usize| "[".repeat(n) + &"]".repeat(n);
        assert!(read(&deep(FAST_DEPTH)).is_some());
        assert!(read(&deep(FAST_DEPTH + 1)).is_none());
        // Statement items from arrays, a whole statement from an array, an
        // enum from an object: declined before any count is needed.
        assert!(from_canonical::<crate::document::StatementItem>(br#"["a","b"]"#).is_none());
        assert!(from_canonical::<crate::document::Impact>(br#"{"none":true}"#).is_none());
        assert!(from_canonical::<crate::document::Impact>(br#""none""#).is_some());
        assert!(from_canonical::<Option<bool>>(b"true").is_some());
    }

    #[test]
    fn writer_refuses_values_outside_the_model() {
        assert!(canonicalize(&Value::Null).is_err());
        assert!(canonicalize(&serde_json::json!(1.5)).is_err());
        assert!(canonicalize(&serde_json::json!(-3)).is_err());
        assert!(canonicalize(&serde_json::json!(MAX_SAFE_INTEGER + 1)).is_err());
    }
}
