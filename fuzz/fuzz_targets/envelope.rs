//! `Envelope::parse` on arbitrary bytes. Whatever parses must serialize with
//! `to_json` to bytes that parse back to the same envelope, and `to_json`
//! must be a fixed point from then on.
#![no_main]

use canary_core::Envelope;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(envelope) = Envelope::parse(data) else {
        return;
    };
    assert!(
        !envelope.signatures().is_empty(),
        "parsed an envelope without signatures"
    );
    let json = envelope.to_json();
    let again = Envelope::parse(&json).expect("to_json output must re-parse");
    assert_eq!(
        again, envelope,
        "to_json/parse round trip changed the envelope"
    );
    assert_eq!(again.to_json(), json, "to_json is not a fixed point");
});
