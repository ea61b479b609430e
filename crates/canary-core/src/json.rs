//! Canonical JSON (DESIGN §3.2): RFC 8785 (JCS) restricted to objects, arrays,
//! strings, booleans and integers in `0..=2^53-1`.
//!
//! [`parse_strict`] reads bytes into a [`serde_json::Value`] and refuses what
//! the restricted model cannot hold (duplicate keys, floats, null, negative or
//! too large integers). [`canonicalize`] writes such a value back in its one
//! canonical form. A payload is canonical when `canonicalize(parse(b)) == b`.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

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

/// A one-pass recognizer for the common case: true only when `bytes` are
/// certainly canonical, i.e. [`parse_strict`] accepts them and
/// [`canonicalize`] gives them back unchanged. It is conservative: on anything
/// unusual (escapes other than the canonical ones, deep nesting, keys that
/// are not plain ASCII in order, any error at all) it answers false, and the
/// caller takes the slow path, which then accepts or names the error.
///
/// It builds nothing: no [`Value`], no canonical copy to compare against.
pub(crate) fn is_canonical_fast(bytes: &[u8]) -> bool {
    // Valid UTF-8 up front, so strings need no decoding below.
    std::str::from_utf8(bytes).is_ok() && Recognizer { bytes, pos: 0 }.document()
}

/// Nesting depth up to which the fast recognizer goes (well below
/// [`MAX_DEPTH`]; deeper payloads take the slow path).
const FAST_DEPTH: usize = 16;

struct Recognizer<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Recognizer<'a> {
    fn document(&mut self) -> bool {
        self.value(0) && self.pos == self.bytes.len()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        let ok = self.peek() == Some(b);
        self.pos += usize::from(ok);
        ok
    }

    fn value(&mut self, depth: usize) -> bool {
        match self.peek() {
            Some(b'{') => depth < FAST_DEPTH && self.object(depth + 1),
            Some(b'[') => depth < FAST_DEPTH && self.array(depth + 1),
            Some(b'"') => self.string().is_some(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'0'..=b'9') => self.integer(),
            _ => false,
        }
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        let ok = self.bytes[self.pos..].starts_with(word);
        if ok {
            self.pos += word.len();
        }
        ok
    }

    /// `0` or a digit string without a leading zero, at most 2^53-1, not
    /// followed by a fraction or exponent.
    fn integer(&mut self) -> bool {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        let digits = &self.bytes[start..self.pos];
        if digits.len() > 16 || (digits.len() > 1 && digits[0] == b'0') {
            return false;
        }
        if matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            return false;
        }
        let n = digits
            .iter()
            .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
        n <= MAX_SAFE_INTEGER
    }

    /// A string in canonical form; returns its raw contents and whether they
    /// hold an escape. Raw control characters and non-canonical escapes fail.
    fn string(&mut self) -> Option<(&'a [u8], bool)> {
        if !self.eat(b'"') {
            return None;
        }
        let start = self.pos;
        let mut escaped = false;
        loop {
            self.skip_plain();
            let b = self.peek()?;
            self.pos += 1;
            match b {
                b'"' => return Some((&self.bytes[start..self.pos - 1], escaped)),
                0x00..=0x1f => return None,
                b'\\' => {
                    escaped = true;
                    match self.peek()? {
                        b'"' | b'\\' | b'b' | b't' | b'n' | b'f' | b'r' => self.pos += 1,
                        b'u' => {
                            // Only `\u00xx` (lowercase hex) for controls that
                            // have no short escape.
                            let hex = self.bytes.get(self.pos + 1..self.pos + 5)?;
                            let c = match hex {
                                [b'0', b'0', hi @ b'0'..=b'1', lo] => {
                                    let lo = match lo {
                                        b'0'..=b'9' => lo - b'0',
                                        b'a'..=b'f' => lo - b'a' + 10,
                                        _ => return None,
                                    };
                                    (hi - b'0') << 4 | lo
                                }
                                _ => return None,
                            };
                            if matches!(c, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d) {
                                return None;
                            }
                            self.pos += 5;
                        }
                        _ => return None,
                    }
                }
                _ => {}
            }
        }
    }

    /// Skips string content that needs no attention (no `"`, backslash or
    /// control character), eight bytes at a time while it can.
    fn skip_plain(&mut self) {
        const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
        const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
        // True when some byte of `w` is below 0x20, or is `"` or a backslash
        // (exact: never false when such a byte is there).
        let special = |w: u64| {
            let below = |w: u64, n: u64| w.wrapping_sub(ONES * n) & !w & HIGH;
            below(w, 0x20) | below(w ^ (ONES * 0x22), 1) | below(w ^ (ONES * 0x5c), 1) != 0
        };
        while let Some(chunk) = self.bytes.get(self.pos..self.pos + 8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            if special(u64::from_ne_bytes(word)) {
                break;
            }
            self.pos += 8;
        }
        while let Some(&b) = self.bytes.get(self.pos) {
            if b < 0x20 || b == b'"' || b == b'\\' {
                break;
            }
            self.pos += 1;
        }
    }

    fn array(&mut self, depth: usize) -> bool {
        self.pos += 1; // [
        if self.eat(b']') {
            return true;
        }
        loop {
            if !self.value(depth) {
                return false;
            }
            if self.eat(b']') {
                return true;
            }
            if !self.eat(b',') {
                return false;
            }
        }
    }

    /// Members with plain ASCII keys (no escapes) in strictly increasing
    /// order, which for ASCII is both byte order and UTF-16 order, and rules
    /// out duplicates.
    fn object(&mut self, depth: usize) -> bool {
        self.pos += 1; // {
        if self.eat(b'}') {
            return true;
        }
        let mut previous: Option<&[u8]> = None;
        loop {
            let Some((key, false)) = self.string() else {
                return false;
            };
            if !key.is_ascii() || previous.is_some_and(|p| p >= key) {
                return false;
            }
            previous = Some(key);
            if !self.eat(b':') || !self.value(depth) {
                return false;
            }
            if self.eat(b'}') {
                return true;
            }
            if !self.eat(b',') {
                return false;
            }
        }
    }
}

fn write_value(value: &Value, out: &mut Vec<u8>) -> Result<(), JsonError> {
    match value {
        Value::Null => return Err(JsonError::Unsupported("null")),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => match n.as_u64() {
            Some(i) if i <= MAX_SAFE_INTEGER => out.extend_from_slice(i.to_string().as_bytes()),
            Some(_) => return Err(JsonError::Unsupported("integer above 2^53-1")),
            None if n.is_i64() => return Err(JsonError::Unsupported("negative integer")),
            None => return Err(JsonError::Unsupported("floating-point number")),
        },
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            // RFC 8785 §3.2.3: sort by UTF-16 code units, not by UTF-8 bytes.
            members.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
            out.push(b'{');
            for (i, (key, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(key, out);
                out.push(b':');
                write_value(item, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// RFC 8785 §3.2.2.2: escape `"` and `\`, use the short escapes for
/// \b \t \n \f \r, `\u00xx` (lowercase hex) for other controls, and write
/// everything else, including U+007F and non-ASCII, as itself.
fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\u{08}' => out.extend_from_slice(b"\\b"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\u{0c}' => out.extend_from_slice(b"\\f"),
            '\r' => out.extend_from_slice(b"\\r"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes());
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

/// Builds a [`Value`] while enforcing the restricted model.
struct StrictSeed {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for StrictSeed {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl StrictSeed {
    fn nested<E: de::Error>(&self) -> Result<StrictSeed, E> {
        if self.depth >= MAX_DEPTH {
            return Err(E::custom(format_args!("nesting deeper than {MAX_DEPTH}")));
        }
        Ok(StrictSeed {
            depth: self.depth + 1,
        })
    }
}

impl<'de> Visitor<'de> for StrictSeed {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object, array, string, boolean or integer in 0..=2^53-1")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        if v > MAX_SAFE_INTEGER {
            return Err(E::custom(format_args!("integer {v} is above 2^53-1")));
        }
        Ok(Value::from(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        match u64::try_from(v) {
            Ok(u) => self.visit_u64(u),
            Err(_) => Err(E::custom(format_args!(
                "negative integer {v} is not allowed"
            ))),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Err(E::custom(format_args!(
            "number {v} is not an integer (floats are not allowed)"
        )))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Err(E::custom("null is not allowed (omit the field instead)"))
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.nested()?)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(de::Error::custom(format_args!("duplicate key {key:?}")));
            }
            let value = access.next_value_seed(self.nested()?)?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn writer_refuses_values_outside_the_model() {
        assert!(canonicalize(&Value::Null).is_err());
        assert!(canonicalize(&serde_json::json!(1.5)).is_err());
        assert!(canonicalize(&serde_json::json!(-3)).is_err());
        assert!(canonicalize(&serde_json::json!(MAX_SAFE_INTEGER + 1)).is_err());
    }
}
