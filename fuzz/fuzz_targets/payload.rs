//! Canonical JSON and payload parsing on arbitrary bytes: `parse_strict`,
//! `canonicalize` and `parse_payload` for the three document types never
//! panic, and a payload that parses is exactly the canonical bytes of its
//! document (`to_payload(doc) == input`).
#![no_main]

use canary_core::json::{canonicalize, is_canonical, parse_strict};
use canary_core::{IncidentRecord, KeyRotation, Payload, Statement, parse_payload, to_payload};
use libfuzzer_sys::fuzz_target;

fn round_trip<T: Payload + PartialEq + std::fmt::Debug>(data: &[u8], canonical: bool) {
    let Ok(doc) = parse_payload::<T>(data) else {
        return;
    };
    assert!(canonical, "parse_payload accepted non-canonical bytes");
    let bytes = to_payload(&doc).expect("a parsed document must serialize");
    assert_eq!(bytes, data, "to_payload(parse_payload(b)) != b");
    assert_eq!(
        parse_payload::<T>(&bytes).expect("its own payload must re-parse"),
        doc
    );
}

fuzz_target!(|data: &[u8]| {
    let canonical = match parse_strict(data) {
        Ok(value) => {
            // Everything parse_strict accepts is inside the canonical model.
            let c = canonicalize(&value).expect("a strictly parsed value must canonicalize");
            // The canonical form is itself canonical and means the same value.
            assert_eq!(
                parse_strict(&c).expect("canonical output must re-parse"),
                value
            );
            assert!(is_canonical(&c), "canonicalize output is not canonical");
            c == data
        }
        Err(_) => false,
    };
    assert_eq!(is_canonical(data), canonical);
    round_trip::<Statement>(data, canonical);
    round_trip::<IncidentRecord>(data, canonical);
    round_trip::<KeyRotation>(data, canonical);
});
