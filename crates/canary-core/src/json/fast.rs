//! The fast path: bytes that are already canonical, recognised and read in
//! one pass.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::MAX_SAFE_INTEGER;

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
pub(super) const FAST_DEPTH: usize = 16;

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
