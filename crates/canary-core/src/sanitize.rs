//! One sanitizer for every output (DESIGN §6): [`sanitize`].

/// Where sanitized text goes: how an unsafe character is written and
/// whether line breaks stay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// One line of plain text: every unsafe character, line breaks and tabs
    /// included, becomes a visible Rust-style escape (`\u{202e}`, `\n`).
    Line,
    /// Plain text that keeps its line breaks: like [`Target::Line`], except
    /// that `\n` (and `\r\n`, written as `\n`) stays a line break.
    Lines,
    /// A serialized JSON text (for example `serde_json`'s output): unsafe
    /// characters are written as JSON `\uXXXX` escapes (a UTF-16 pair
    /// beyond U+FFFF), so the JSON value is unchanged and no raw unsafe
    /// byte is left. Raw tab, line feed and carriage return can only be
    /// whitespace between tokens in valid JSON, and are kept.
    Json,
    /// Inline Markdown: the text as [`Target::Line`] inside a code span, so
    /// nothing in it renders as a link, an image, HTML or emphasis. Empty
    /// text stays empty.
    Markdown,
    /// A cell of a GitHub-flavoured Markdown table: [`Target::Markdown`]
    /// with each `|` written `\|`, which the table reads as part of the
    /// cell (and shows as `|` in the code span).
    MarkdownCell,
}

/// True for the characters no output may carry raw: C0 controls, DEL, C1
/// controls, the line and paragraph separators U+2028 and U+2029, every
/// Unicode `Bidi_Control` character (U+061C, U+200E, U+200F, U+202A to
/// U+202E, U+2066 to U+2069), and the noncharacters (U+FDD0 to U+FDEF and
/// the last two code points of every plane), which XML 1.0 forbids or
/// discourages.
pub fn is_unsafe(c: char) -> bool {
    let u = u32::from(c);
    c.is_control()
        || matches!(
            c,
            '\u{2028}'
                | '\u{2029}'
                | '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{fdd0}'..='\u{fdef}'
        )
        || u & 0xfffe == 0xfffe
}

/// `text` made safe for `target`.
///
/// Text from documents (and from servers, list files and error messages
/// that quote them) reaches terminals, JSON, HTML, `canary.txt`, Atom and
/// Markdown. [`sanitize`] is the one place that decides which characters
/// are unsafe ([`is_unsafe`]) and how each output writes them:
///
/// | [`Target`] | unsafe character | line break | used for |
/// |---|---|---|---|
/// | [`Target::Line`] | `\u{202e}`, `\n`, `\t` (visible) | escaped | terminal, `canary.txt`, HTML and Atom text, Prometheus labels |
/// | [`Target::Lines`] | `\u{202e}` (visible) | kept (`\r\n` becomes `\n`) | paragraphs of the status page, incident bodies in the feed, multi-line error messages |
/// | [`Target::Json`] | `\u202e` (a JSON escape: same value) | structural whitespace kept | serialized JSON texts |
/// | [`Target::Markdown`] | as `Line`, inside a code span | escaped | GitHub annotations (title and message) |
/// | [`Target::MarkdownCell`] | as `Markdown`, `\|` escaped for GFM tables | escaped | the GitHub step summary |
///
/// The output's own syntax (HTML and XML entities, workflow-command `%`
/// escapes, Prometheus label quoting) stays with the writer of that format,
/// and is applied to the sanitized text. Markdown is different: any text may
/// be a link, an image or HTML there, so the whole text becomes a code span,
/// which Markdown shows as it is.
pub fn sanitize(text: &str, target: Target) -> String {
    match target {
        Target::Line => visible(text, false),
        Target::Lines => visible(&text.replace("\r\n", "\n"), true),
        Target::Json => json(text),
        Target::Markdown => code_span(&visible(text, false), false),
        Target::MarkdownCell => code_span(&visible(text, false), true),
    }
}

/// Unsafe characters as `\u{..}` (`\n`, `\r`, `\t` for those three).
fn visible(text: &str, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_unsafe(c) && !(keep_newlines && c == '\n') {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Unsafe characters of a JSON text as `\uXXXX` escapes.
fn json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_unsafe(c) && !matches!(c, '\t' | '\n' | '\r') {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `text` (one line, already escaped) as a Markdown code span, delimited
/// by one backtick more than its longest run of backticks.
fn code_span(text: &str, in_table: bool) -> String {
    if text.is_empty() {
        return String::new();
    }
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    // A code span drops one space at each end when both ends have one, and
    // a backtick at an end would join the fence: pad with a space then.
    let pad = text.starts_with('`')
        || text.ends_with('`')
        || (text.starts_with(' ') && text.ends_with(' ') && text.trim() != "");
    let mut out = String::with_capacity(text.len() + 2 * fence.len() + 2);
    out.push_str(&fence);
    if pad {
        out.push(' ');
    }
    for c in text.chars() {
        if in_table && c == '|' {
            // A GFM table ends a cell at a `|` that no backslash escapes,
            // reading the longest cell it can: `\\|` stays in the cell
            // too (as `\|`), whatever stands before the backslash.
            out.push_str("\\|");
        } else {
            out.push(c);
        }
    }
    if pad {
        out.push(' ');
    }
    out.push_str(&fence);
    out
}

#[cfg(test)]
mod tests {
    use super::{Target, is_unsafe, sanitize};

    /// Every character DESIGN §6 names, and the noncharacters of XML.
    const UNSAFE: &[char] = &[
        '\u{0}',
        '\u{7}',
        '\t',
        '\n',
        '\r',
        '\u{1b}',
        '\u{1f}',
        '\u{7f}',
        '\u{80}',
        '\u{85}',
        '\u{9b}',
        '\u{9f}',
        '\u{2028}',
        '\u{2029}',
        '\u{061c}',
        '\u{200e}',
        '\u{200f}',
        '\u{202a}',
        '\u{202b}',
        '\u{202c}',
        '\u{202d}',
        '\u{202e}',
        '\u{2066}',
        '\u{2067}',
        '\u{2068}',
        '\u{2069}',
        '\u{fdd0}',
        '\u{fdef}',
        '\u{fffe}',
        '\u{ffff}',
        '\u{1fffe}',
        '\u{10ffff}',
    ];

    #[test]
    fn the_unsafe_characters_are_exactly_those_listed() {
        for &c in UNSAFE {
            assert!(is_unsafe(c), "{c:?}");
        }
        for c in [
            ' ',
            'a',
            '~',
            '\u{a0}',
            'é',
            '東',
            '\u{200b}',
            '\u{200d}',
            '\u{2030}',
            '\u{2065}',
            '\u{206a}',
            '\u{202f}',
            '\u{fdcf}',
            '\u{fdf0}',
            '\u{fffd}',
            '\u{1f600}',
            '\u{10fffd}',
        ] {
            assert!(!is_unsafe(c), "{c:?}");
        }
    }

    #[test]
    fn line_makes_every_unsafe_character_a_visible_escape() {
        assert_eq!(sanitize("a\u{1b}[31mb\n", Target::Line), "a\\u{1b}[31mb\\n");
        assert_eq!(
            sanitize("x\u{202e}y\u{2066}\u{061c}\u{85}\u{2028}\t", Target::Line),
            "x\\u{202e}y\\u{2066}\\u{61c}\\u{85}\\u{2028}\\t"
        );
        assert_eq!(sanitize("Grüße, 東京 <b>", Target::Line), "Grüße, 東京 <b>");
        for &c in UNSAFE {
            let out = sanitize(&format!("a{c}b"), Target::Line);
            assert!(!out.chars().any(is_unsafe), "{c:?} -> {out:?}");
            assert!(out.starts_with("a\\") && out.ends_with('b'), "{out:?}");
        }
    }

    #[test]
    fn lines_keep_line_breaks_only() {
        assert_eq!(
            sanitize("one\r\ntwo\n\nthree\rfour\u{2029}\u{202e}", Target::Lines),
            "one\ntwo\n\nthree\\rfour\\u{2029}\\u{202e}"
        );
    }

    #[test]
    fn json_keeps_the_value_and_escapes_the_bytes() {
        let raw = "a\u{7f}\u{85}\u{2028}\u{2029}\u{061c}\u{200e}\u{202e}\u{2069}\u{fffe}\u{1fffe}é";
        let text = serde_json::to_string_pretty(&serde_json::json!({
            "k\u{202e}": raw,
            "list": ["\u{1b}", "\n"],
        }))
        .expect("JSON");
        let safe = sanitize(&text, Target::Json);
        assert!(!safe.chars().any(|c| is_unsafe(c) && c != '\n'), "{safe:?}");
        assert!(safe.contains("\\u202e") && safe.contains("\\ud83f\\udffe"));
        assert!(safe.contains("é"), "other characters stay as they are");
        let back: serde_json::Value = serde_json::from_str(&safe).expect("still JSON");
        let orig: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(back, orig, "the same value");
        assert_eq!(safe.lines().count(), text.lines().count(), "layout kept");
    }

    #[test]
    fn markdown_is_a_code_span_that_nothing_escapes_from() {
        assert_eq!(sanitize("", Target::Markdown), "");
        assert_eq!(
            sanitize("[x](https://evil)", Target::Markdown),
            "`[x](https://evil)`"
        );
        assert_eq!(sanitize("a`b", Target::Markdown), "``a`b``");
        assert_eq!(sanitize("``x", Target::Markdown), "``` ``x ```");
        assert_eq!(sanitize(" x ", Target::Markdown), "`  x  `");
        assert_eq!(
            sanitize("a\n# h\u{202e}", Target::Markdown),
            "`a\\n# h\\u{202e}`"
        );
        assert_eq!(sanitize("a|b", Target::Markdown), "`a|b`");
    }

    #[test]
    fn table_cells_escape_every_pipe() {
        assert_eq!(sanitize("a|b", Target::MarkdownCell), "`a\\|b`");
        assert_eq!(sanitize("a\\|b", Target::MarkdownCell), "`a\\\\|b`");
        assert_eq!(sanitize("||", Target::MarkdownCell), "`\\|\\|`");
    }
}
