//! The session document's checksum: a CRC-32 of the document's text, stored in the document
//! itself as its `checksum` field (`checksum: "crc32:1a2b3c4d"`).
//!
//! The checksum covers every byte of the file except its own eight hex digits: the header
//! comment, every field whatever its name, the white space. It is therefore independent of
//! which fields the document has (a field added later is covered without any change here), and
//! it is computed and verified on the text alone, without parsing it: the writer serialises the
//! document with eight zeros in place of the digits, then writes the CRC-32 of the text without
//! those digits in their place; a reader finds the last `checksum: "crc32:` of the text, reads
//! the eight digits after it and compares them with the CRC-32 of the rest.
//!
//! Documents written before the checksum existed (format 1, and format 2 written by earlier
//! development builds) have no such field and are read without this check; the histories of
//! every document are validated while it is parsed anyway (see `format`).

use crate::file_error::line_col;

/// What a checksum field holds before its digits.
pub const PREFIX: &str = "crc32:";

/// How the field is written: the writer's output is found again with it.
const NEEDLE: &str = "checksum: \"crc32:";

/// Hex digits of a CRC-32.
const DIGITS: usize = 8;

/// The value a document is serialised with before it is sealed.
pub fn placeholder() -> String {
    format!("{PREFIX}{}", "0".repeat(DIGITS))
}

/// Where the checksum's digits are in a document's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Digits {
    /// Byte offset of the `checksum` key.
    key: usize,
    /// Byte offset of the first digit.
    start: usize,
}

/// The last checksum field of `text` whose eight hex digits are followed by `"`.
fn find(text: &str) -> Option<Digits> {
    let key = text.rfind(NEEDLE)?;
    let start = key + NEEDLE.len();
    let digits = text.as_bytes().get(start..start + DIGITS + 1)?;
    let well_formed = digits[..DIGITS].iter().all(u8::is_ascii_hexdigit) && digits[DIGITS] == b'"';
    well_formed.then_some(Digits { key, start })
}

/// The CRC-32 of `text` without the `DIGITS` bytes at `start`.
fn crc_without(text: &str, start: usize) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&text.as_bytes()[..start]);
    h.update(&text.as_bytes()[start + DIGITS..]);
    h.finalize()
}

/// Writes the checksum of `text` over the placeholder of its (last) checksum field. Returns
/// false, leaving `text` alone, when it has no placeholder.
pub fn seal(text: &mut String) -> bool {
    let Some(d) = find(text) else {
        return false;
    };
    let crc = crc_without(text, d.start);
    text.replace_range(d.start..d.start + DIGITS, &format!("{crc:08x}"));
    true
}

/// The outcome of checking a document's checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// The document has no checksum field (written before checksums existed).
    Absent,
    /// The checksum matches the content.
    Matches,
    /// The content is not what was checksummed (or the field cannot be read), at (line,
    /// column) of the field.
    Mismatch {
        /// What the field says, or what is wrong with it.
        stored: String,
        /// The checksum of the content.
        computed: u32,
        /// 1-based (line, column) of the `checksum` field.
        position: (usize, usize),
    },
}

impl Check {
    /// The message for a mismatch (None otherwise).
    pub fn problem(&self) -> Option<String> {
        match self {
            Check::Mismatch {
                stored, computed, ..
            } => Some(format!(
                "the document's checksum does not match its content (stored {stored}, content \
                 crc32:{computed:08x}): the file was damaged or edited after it was saved; \
                 `--ignore-checksum` reads a file you edited on purpose"
            )),
            _ => None,
        }
    }
}

/// Checks the checksum of `text`, whose parsed `checksum` field is `field` (None for a document
/// that has none, or that was not parsed: then the text decides).
pub fn check(text: &str, field: Option<&str>) -> Check {
    let found = find(text);
    let at = |offset: usize| line_col(text, offset);
    match (found, field) {
        (None, None) => {
            // A field that the text search does not recognise (damaged) still counts as present.
            match text.rfind("checksum:") {
                Some(key) if field_like(text, key) => Check::Mismatch {
                    stored: "an unreadable value".into(),
                    computed: crc32fast::hash(text.as_bytes()),
                    position: at(key),
                },
                _ => Check::Absent,
            }
        }
        (None, Some(value)) => Check::Mismatch {
            stored: format!("{value:?}, not `{PREFIX}` and eight hex digits"),
            computed: crc32fast::hash(text.as_bytes()),
            position: text.rfind("checksum").map_or((1, 1), at),
        },
        (Some(d), field) => {
            let digits = &text[d.start..d.start + DIGITS];
            let stored = format!("{PREFIX}{digits}");
            let computed = crc_without(text, d.start);
            let same_field = field.is_none_or(|v| v == stored);
            // Exactly as written: lower-case digits (an upper-case one is a flipped bit).
            if same_field && digits == format!("{computed:08x}") {
                Check::Matches
            } else {
                Check::Mismatch {
                    stored,
                    computed,
                    position: at(d.key),
                }
            }
        }
    }
}

/// True when the `checksum:` at `key` starts a line's first token (a field, not text inside a
/// string or a comment).
fn field_like(text: &str, key: usize) -> bool {
    let line_start = text[..key].rfind('\n').map_or(0, |p| p + 1);
    text[line_start..key].trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealed(body: &str) -> String {
        let mut t = format!(
            "Doc(\n    a: 1,\n    {body}\n    checksum: \"{}\",\n)\n",
            placeholder()
        );
        assert!(seal(&mut t));
        t
    }

    #[test]
    fn sealed_text_checks_and_every_change_is_seen() {
        let t = sealed("b: \"x\",");
        assert_eq!(check(&t, None), Check::Matches);
        assert_eq!(
            check(&t, Some(&t[t.find("crc32:").unwrap()..][..14])),
            Check::Matches
        );
        // Every single-bit flip of every byte is detected (CRC-32 finds all of them).
        for i in 0..t.len() {
            for bit in 0..8 {
                let mut b = t.clone().into_bytes();
                b[i] ^= 1 << bit;
                let Ok(m) = String::from_utf8(b) else {
                    continue;
                };
                assert_ne!(check(&m, None), Check::Matches, "byte {i} bit {bit}");
            }
        }
        let Check::Mismatch { position, .. } = check(&t.replace("a: 1", "a: 2"), None) else {
            panic!("a changed value was not seen");
        };
        assert_eq!(position, (4, 5));
    }

    #[test]
    fn documents_without_a_checksum_are_absent_not_damaged() {
        assert_eq!(check("Doc(\n    a: 1,\n)\n", None), Check::Absent);
        // "checksum:" inside a string is not a field.
        assert_eq!(
            check("Doc(\n    a: \"checksum: x\",\n)\n", None),
            Check::Absent
        );
        // A damaged field is not taken for an absent one.
        let t = sealed("").replace("crc32:", "crc3z:");
        assert!(matches!(check(&t, None), Check::Mismatch { .. }));
        assert!(matches!(
            check(&t, Some("crc3z:00")),
            Check::Mismatch { .. }
        ));
        assert!(
            check(&t, None)
                .problem()
                .unwrap()
                .contains("--ignore-checksum")
        );
    }
}
