//! Canonical JSON (DESIGN §3.2): RFC 8785 (JCS) restricted to objects, arrays,
//! strings, booleans and integers in `0..=2^53-1`.
//!
//! [`parse_strict`] reads bytes into a [`serde_json::Value`] and refuses what
//! the restricted model cannot hold (duplicate keys, floats, null, negative or
//! too large integers). [`canonicalize`] writes such a value back in its one
//! canonical form. A payload is canonical when `canonicalize(parse(b)) == b`.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{self, Serialize, Serializer};
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
    std::str::from_utf8(bytes).is_ok_and(|text| Recognizer::new(text).document())
}

/// Nesting depth up to which the fast recognizer goes (well below
/// [`MAX_DEPTH`]; deeper payloads take the slow path).
const FAST_DEPTH: usize = 16;

struct Recognizer<'a> {
    /// The whole input, valid UTF-8.
    text: &'a str,
    /// The same, as bytes.
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Recognizer<'a> {
    fn new(text: &'a str) -> Self {
        Recognizer {
            text,
            bytes: text.as_bytes(),
            pos: 0,
        }
    }

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
            Some(b'0'..=b'9') => self.integer().is_some(),
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
    /// followed by a fraction or exponent; returns its value. An empty digit
    /// string fails.
    fn integer(&mut self) -> Option<u64> {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        let digits = &self.bytes[start..self.pos];
        if digits.is_empty() || digits.len() > 16 || (digits.len() > 1 && digits[0] == b'0') {
            return None;
        }
        if matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        let n = digits
            .iter()
            .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
        (n <= MAX_SAFE_INTEGER).then_some(n)
    }

    /// A string in canonical form; returns its raw contents (escapes not
    /// decoded) and whether they hold an escape. Raw control characters and
    /// non-canonical escapes fail.
    fn string(&mut self) -> Option<(&'a str, bool)> {
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
                // The quotes are ASCII, so both ends are char boundaries.
                b'"' => return Some((self.text.get(start..self.pos - 1)?, escaped)),
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
        const ONES: u64 = u64::from_le_bytes([0x01; 8]);
        const HIGH: u64 = u64::from_le_bytes([0x80; 8]);
        // The high bit of byte i of the result is set when byte i of `w` is
        // below 0x20, or is `"` or a backslash; bytes above such a byte may
        // be flagged too (a borrow), but the lowest flag is always exact.
        let special = |w: u64| {
            let below = |w: u64, n: u64| w.wrapping_sub(ONES * n) & !w & HIGH;
            below(w, 0x20) | below(w ^ (ONES * 0x22), 1) | below(w ^ (ONES * 0x5c), 1)
        };
        while let Some(chunk) = self
            .bytes
            .get(self.pos..)
            .and_then(<[u8]>::first_chunk::<8>)
        {
            let flags = special(u64::from_le_bytes(*chunk));
            if flags != 0 {
                // Little-endian: the lowest flagged byte is the first one.
                self.pos += (flags.trailing_zeros() / 8) as usize;
                return;
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
        let mut previous: Option<&str> = None;
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

/// Reads a `T` straight from `bytes` in one pass, if the bytes are in the
/// grammar of [`is_canonical_fast`] (certainly canonical under the restricted
/// model): returns the value and the number of JSON objects read, or `None`.
///
/// It is the recognizer of [`is_canonical_fast`] driving serde: it accepts
/// only bytes the recognizer accepts, and hands `T` the same values
/// `serde_json::from_value(parse_strict(bytes))` would (strings unescaped,
/// integers as `u64`, `true`/`false`, arrays, objects with their keys).
/// Besides, it is stricter than serde_json in what it lets `T` ask for: a
/// struct or map only from an object (never from an array), an enum only as
/// a string (a unit variant), `Option` only as a present value (there is no
/// `null`), and no skipping of unknown values. Whatever it declines, or `T`
/// refuses, gives `None`, without building an error message: the caller then
/// takes the slow path, which names the problem.
///
/// Keys are lent to `T` from the input, and so are strings without escapes.
pub(crate) fn from_canonical<'de, T: de::Deserialize<'de>>(bytes: &'de [u8]) -> Option<(T, usize)> {
    let mut de = Canonical {
        r: Recognizer::new(std::str::from_utf8(bytes).ok()?),
        depth: 0,
        objects: 0,
    };
    let value = T::deserialize(&mut de).ok()?;
    (de.r.pos == bytes.len()).then_some((value, de.objects))
}

/// The error of [`from_canonical`]: this is not for the fast path.
#[derive(Debug)]
struct Declined;

impl fmt::Display for Declined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("declined by the canonical fast path")
    }
}

impl std::error::Error for Declined {}

impl de::Error for Declined {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Declined
    }
}

/// The deserializer behind [`from_canonical`].
struct Canonical<'de> {
    r: Recognizer<'de>,
    /// Containers open around the current position.
    depth: usize,
    /// Objects read so far.
    objects: usize,
}

impl<'de> Canonical<'de> {
    /// Opens a container at the current byte (`{` or `[`), within
    /// [`FAST_DEPTH`] as the recognizer allows.
    fn enter(&mut self) -> Result<(), Declined> {
        if self.depth >= FAST_DEPTH {
            return Err(Declined);
        }
        self.depth += 1;
        self.r.pos += 1;
        Ok(())
    }

    fn string<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Declined> {
        match self.r.string() {
            Some((s, false)) => visitor.visit_borrowed_str(s),
            Some((raw, true)) => visitor.visit_string(unescape(raw).ok_or(Declined)?),
            None => Err(Declined),
        }
    }

    fn seq<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Declined> {
        self.enter()?;
        let mut access = CanonicalSeq {
            de: self,
            first: true,
            done: false,
        };
        let value = visitor.visit_seq(&mut access)?;
        // A visitor that stops before the end would leave elements unread.
        if !access.done {
            return Err(Declined);
        }
        self.depth -= 1;
        Ok(value)
    }

    fn map<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Declined> {
        self.enter()?;
        self.objects += 1;
        let mut access = CanonicalMap {
            de: self,
            first: true,
            done: false,
            previous: None,
        };
        let value = visitor.visit_map(&mut access)?;
        if !access.done {
            return Err(Declined);
        }
        self.depth -= 1;
        Ok(value)
    }
}

/// Decodes the escapes of a string the recognizer accepted (only the
/// canonical ones occur).
fn unescape(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find('\\') {
        out.push_str(rest.get(..i)?);
        let (c, len) = match rest.as_bytes().get(i + 1)? {
            b'"' => ('"', 2),
            b'\\' => ('\\', 2),
            b'b' => ('\u{08}', 2),
            b't' => ('\t', 2),
            b'n' => ('\n', 2),
            b'f' => ('\u{0c}', 2),
            b'r' => ('\r', 2),
            b'u' => {
                let hex = rest.get(i + 2..i + 6)?;
                if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                (char::from_u32(u32::from_str_radix(hex, 16).ok()?)?, 6)
            }
            _ => return None,
        };
        out.push(c);
        rest = rest.get(i + len..)?;
    }
    out.push_str(rest);
    Some(out)
}

impl<'de> Deserializer<'de> for &mut Canonical<'de> {
    type Error = Declined;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Declined> {
        match self.r.peek() {
            Some(b'{') => self.map(visitor),
            Some(b'[') => self.seq(visitor),
            Some(b'"') => self.string(visitor),
            Some(b't') if self.r.literal(b"true") => visitor.visit_bool(true),
            Some(b'f') if self.r.literal(b"false") => visitor.visit_bool(false),
            Some(b'0'..=b'9') => visitor.visit_u64(self.r.integer().ok_or(Declined)?),
            _ => Err(Declined),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Declined> {
        self.string(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Declined> {
        self.string(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Declined> {
        self.string(visitor)
    }

    /// There is no `null` in the fast path: a value is always some value.
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Declined> {
        visitor.visit_some(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Declined> {
        match self.r.peek() {
            Some(b'[') => self.seq(visitor),
            _ => Err(Declined),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Declined> {
        match self.r.peek() {
            Some(b'{') => self.map(visitor),
            _ => Err(Declined),
        }
    }

    /// A struct from an object only, never from an array of its fields.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Declined> {
        self.deserialize_map(visitor)
    }

    /// Unit variants only, written as strings.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Declined> {
        match self.r.peek() {
            Some(b'"') => visitor.visit_enum(UnitVariant { de: self }),
            _ => Err(Declined),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Declined> {
        visitor.visit_newtype_struct(self)
    }

    // Booleans and integers are what they are; `T` decides if it wants them.
    serde::forward_to_deserialize_any! { bool u8 u16 u32 u64 i8 i16 i32 i64 }

    // What no payload type asks for is declined, not guessed at.

    fn deserialize_f32<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Declined> {
        Err(Declined)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Declined> {
        Err(Declined)
    }

    fn deserialize_char<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Declined> {
        Err(Declined)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Declined> {
        Err(Declined)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Declined> {
        Err(Declined)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Declined> {
        Err(Declined)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: V,
    ) -> Result<V::Value, Declined> {
        Err(Declined)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, Declined> {
        Err(Declined)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        _: V,
    ) -> Result<V::Value, Declined> {
        Err(Declined)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Declined> {
        Err(Declined)
    }
}

/// The elements of an array, for [`Canonical`].
struct CanonicalSeq<'a, 'de> {
    de: &'a mut Canonical<'de>,
    first: bool,
    /// The closing `]` has been read.
    done: bool,
}

impl<'de> SeqAccess<'de> for CanonicalSeq<'_, 'de> {
    type Error = Declined;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Declined> {
        if self.done {
            return Ok(None);
        }
        if self.de.r.eat(b']') {
            self.done = true;
            return Ok(None);
        }
        if !std::mem::replace(&mut self.first, false) && !self.de.r.eat(b',') {
            return Err(Declined);
        }
        seed.deserialize(&mut *self.de).map(Some)
    }
}

/// The members of an object, for [`Canonical`]: plain ASCII keys in
/// strictly increasing order, as the recognizer requires.
struct CanonicalMap<'a, 'de> {
    de: &'a mut Canonical<'de>,
    first: bool,
    /// The closing `}` has been read.
    done: bool,
    previous: Option<&'de str>,
}

impl<'de> MapAccess<'de> for CanonicalMap<'_, 'de> {
    type Error = Declined;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Declined> {
        if self.done {
            return Ok(None);
        }
        if self.de.r.eat(b'}') {
            self.done = true;
            return Ok(None);
        }
        if !std::mem::replace(&mut self.first, false) && !self.de.r.eat(b',') {
            return Err(Declined);
        }
        let Some((key, false)) = self.de.r.string() else {
            return Err(Declined);
        };
        if !key.is_ascii() || self.previous.is_some_and(|p| p >= key) || !self.de.r.eat(b':') {
            return Err(Declined);
        }
        self.previous = Some(key);
        seed.deserialize(de::value::BorrowedStrDeserializer::new(key))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Declined> {
        seed.deserialize(&mut *self.de)
    }
}

/// A unit variant written as a string, for [`Canonical`].
struct UnitVariant<'a, 'de> {
    de: &'a mut Canonical<'de>,
}

impl<'de> de::EnumAccess<'de> for UnitVariant<'_, 'de> {
    type Error = Declined;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), Declined> {
        let variant = seed.deserialize(&mut *self.de)?;
        Ok((variant, self))
    }
}

impl<'de> de::VariantAccess<'de> for UnitVariant<'_, 'de> {
    type Error = Declined;

    fn unit_variant(self) -> Result<(), Declined> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _: T) -> Result<T::Value, Declined> {
        Err(Declined)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, Declined> {
        Err(Declined)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Declined> {
        Err(Declined)
    }
}

/// The number of JSON objects in the JSON form of `value` (what
/// `serde_json::to_value` makes of it, outermost value included), or `None`
/// when serializing it fails. Builds nothing and formats nothing: strings,
/// numbers and booleans are skipped unseen.
///
/// An object is whatever serde writes as one: a struct, a map, or an enum
/// variant that carries data (`{"variant": ...}`).
pub(crate) fn objects_written<T: Serialize + ?Sized>(value: &T) -> Option<usize> {
    let mut counter = ObjectCounter { objects: 0 };
    value.serialize(&mut counter).ok()?;
    Some(counter.objects)
}

/// The serializer behind [`objects_written`].
struct ObjectCounter {
    objects: usize,
}

impl Serializer for &mut ObjectCounter {
    type Ok = ();
    type Error = serde_json::Error;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn serialize_bool(self, _: bool) -> Result<(), Self::Error> {
        Ok(())
    }
    fn serialize_i8(self, _: i8) -> Result<(), Self::Error> {
        Ok(())
    }
    fn serialize_i16(self, _: i16) -> Result<(), Self::Error> {
        Ok(())
    }
    fn serialize_i32(self, _: i32) -> Result<(), Self::Error> {
        Ok(())
    }
    fn serialize_i64(self, _: i64) -> Result<(), Self::Error> {
        Ok(())
    }
    fn serialize_u8(self, _: u8) -> Result<(), Self::Error> {
        Ok(())
    }
    fn serialize_u16(self, _: u16) -> Result<(), Self::Error> {
        Ok(())
    }
    fn serialize_u32(self, _: u32) -> Result<(), Self::Error> {
        Ok(())
    }
    fn serialize_u64(self, _: u64) -> Result<(), Self::Error> {
        Ok(())
    }
    fn serialize_f32(self, _: f32) -> Result<(), Self::Error> {
        Ok(())
    }
    fn serialize_f64(self, _: f64) -> Result<(), Self::Error> {
        Ok(())
    }
    fn serialize_char(self, _: char) -> Result<(), Self::Error> {
        Ok(())
    }
    fn serialize_str(self, _: &str) -> Result<(), Self::Error> {
        Ok(())
    }
    /// A string: nothing to count, so nothing to format.
    fn collect_str<T: fmt::Display + ?Sized>(self, _: &T) -> Result<(), Self::Error> {
        Ok(())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Self::Error> {
        Ok(())
    }
    fn serialize_none(self) -> Result<(), Self::Error> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Self::Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Self::Error> {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Self::Error> {
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), Self::Error> {
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Self::Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        value: &T,
    ) -> Result<(), Self::Error> {
        self.objects += 1;
        value.serialize(self)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self, Self::Error> {
        Ok(self)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self, Self::Error> {
        Ok(self)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, Self::Error> {
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, Self::Error> {
        self.objects += 1;
        Ok(self)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self, Self::Error> {
        self.objects += 1;
        Ok(self)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, Self::Error> {
        self.objects += 1;
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, Self::Error> {
        self.objects += 1;
        Ok(self)
    }
}

/// The parts of the counter that hold a list of values: each is counted
/// through, in turn.
macro_rules! count_through_elements {
    ($($part:ident :: $method:ident),* $(,)?) => {$(
        impl ser::$part for &mut ObjectCounter {
            type Ok = ();
            type Error = serde_json::Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Self::Error> {
                value.serialize(&mut **self)
            }
            fn end(self) -> Result<(), Self::Error> {
                Ok(())
            }
        }
    )*};
}

count_through_elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field,
);

impl ser::SerializeMap for &mut ObjectCounter {
    type Ok = ();
    type Error = serde_json::Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Self::Error> {
        key.serialize(&mut **self)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Self::Error> {
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<(), Self::Error> {
        Ok(())
    }
}

impl ser::SerializeStruct for &mut ObjectCounter {
    type Ok = ();
    type Error = serde_json::Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Self::Error> {
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<(), Self::Error> {
        Ok(())
    }
}

impl ser::SerializeStructVariant for &mut ObjectCounter {
    type Ok = ();
    type Error = serde_json::Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Self::Error> {
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<(), Self::Error> {
        Ok(())
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
