//! Where every value of a RON text is: an outline of the text's structure (structs, tuples,
//! lists, maps, scalars) with the byte offset of each part, so that a problem found after serde
//! has read the file — an unknown axis, an empty axis, a value out of range — is reported at the
//! line and column of the value that caused it.
//!
//! The outline is made only of texts serde has already accepted, so it need not explain syntax
//! errors: on anything it does not understand it gives up (None), and the error is then reported
//! without a position.

/// One part of a RON text.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Byte offset of its first character.
    pub start: usize,
    /// What it is.
    pub kind: Kind,
}

/// The kinds of parts.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A number, string, character, identifier or unit value; strings keep their text.
    Scalar(Option<String>),
    /// `Name(field: value, ..)` or `(field: value, ..)`: the fields with their key offsets.
    Struct(Vec<(String, usize, Node)>),
    /// `Name(a, b)` or `(a, b)` (`Some(x)` included).
    Tuple(Vec<Node>),
    /// `[a, b]`.
    List(Vec<Node>),
    /// `{key: value, ..}`.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The value of struct field `name`.
    pub fn field(&self, name: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Struct(fields) => fields.iter().find(|(n, _, _)| n == name).map(|f| &f.2),
            _ => None,
        }
    }

    /// Item `index` of a list or tuple.
    pub fn item(&self, index: usize) -> Option<&Node> {
        match &self.kind {
            Kind::List(items) | Kind::Tuple(items) => items.get(index),
            _ => None,
        }
    }

    /// The `index`-th entry (key, value) of a map.
    pub fn entry(&self, index: usize) -> Option<(&Node, &Node)> {
        match &self.kind {
            Kind::Map(entries) => entries.get(index).map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    /// `Some(x)` as `x` (what an optional field written with `Some` holds); anything else as is.
    pub fn unwrap_some(&self) -> &Node {
        match &self.kind {
            Kind::Tuple(items) if items.len() == 1 => &items[0],
            _ => self,
        }
    }
}

/// The outline of `text`, or None where it does not look like RON.
pub fn outline(text: &str) -> Option<Node> {
    let mut p = Parser {
        text,
        bytes: text.as_bytes(),
        at: 0,
    };
    p.skip_trivia();
    // `#![enable(..)]` attributes before the value.
    while p.bytes[p.at..].starts_with(b"#!") {
        p.at += 2;
        p.skip_trivia();
        p.value()?;
        p.skip_trivia();
    }
    p.value()
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// Skips white space and comments (block comments nest in RON).
    fn skip_trivia(&mut self) {
        loop {
            while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
                self.at += 1;
            }
            let rest = &self.bytes[self.at..];
            if rest.starts_with(b"//") {
                while self.peek().is_some_and(|b| b != b'\n') {
                    self.at += 1;
                }
            } else if rest.starts_with(b"/*") {
                let mut depth = 0usize;
                while self.at < self.bytes.len() {
                    let rest = &self.bytes[self.at..];
                    if rest.starts_with(b"/*") {
                        depth += 1;
                        self.at += 2;
                    } else if rest.starts_with(b"*/") {
                        depth -= 1;
                        self.at += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        self.at += 1;
                    }
                }
            } else {
                return;
            }
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        self.skip_trivia();
        if self.peek() == Some(b) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// Whether a raw string (`r"…"`, `r#"…"#`) starts here.
    fn raw_string_here(&self) -> bool {
        let rest = &self.bytes[self.at..];
        let hashes = rest.iter().skip(1).take_while(|&&b| b == b'#').count();
        rest.first() == Some(&b'r') && rest.get(1 + hashes) == Some(&b'"')
    }

    fn identifier(&mut self) -> Option<&str> {
        let start = self.at;
        if self.bytes[self.at..].starts_with(b"r#") {
            self.at += 2;
        }
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80)
        {
            self.at += 1;
        }
        (self.at > start).then(|| &self.text[start..self.at])
    }

    /// A quoted string (plain or raw) starting here: its text, escapes of quotes and
    /// backslashes undone.
    fn string(&mut self) -> Option<String> {
        if self.peek() == Some(b'r') {
            self.at += 1;
            let mut hashes = 0;
            while self.peek() == Some(b'#') {
                hashes += 1;
                self.at += 1;
            }
            if self.peek() != Some(b'"') {
                return None;
            }
            self.at += 1;
            let close: String = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let end = self.text[self.at..].find(&close)? + self.at;
            let s = self.text[self.at..end].to_string();
            self.at = end + close.len();
            return Some(s);
        }
        self.at += 1; // the opening quote
        let mut s = String::new();
        let mut chars = self.text[self.at..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.at += i + 1;
                    return Some(s);
                }
                '\\' => {
                    let (_, e) = chars.next()?;
                    s.push(match e {
                        'n' => '\n',
                        't' => '\t',
                        other => other,
                    });
                }
                c => s.push(c),
            }
        }
        None
    }

    fn value(&mut self) -> Option<Node> {
        self.skip_trivia();
        let start = self.at;
        let b = self.peek()?;
        let kind = match b {
            b'"' => Kind::Scalar(Some(self.string()?)),
            b'r' if self.raw_string_here() => Kind::Scalar(Some(self.string()?)),
            b'\'' => {
                self.at += 1;
                if self.peek() == Some(b'\\') {
                    self.at += 1;
                }
                let c = self.text[self.at..].chars().next()?;
                self.at += c.len_utf8();
                if !self.eat(b'\'') {
                    return None;
                }
                Kind::Scalar(None)
            }
            b'[' => {
                self.at += 1;
                Kind::List(self.items(b']')?)
            }
            b'{' => {
                self.at += 1;
                let mut entries = Vec::new();
                loop {
                    if self.eat(b'}') {
                        break;
                    }
                    let key = self.value()?;
                    if !self.eat(b':') {
                        return None;
                    }
                    let value = self.value()?;
                    entries.push((key, value));
                    if !self.eat(b',') {
                        if self.eat(b'}') {
                            break;
                        }
                        return None;
                    }
                }
                Kind::Map(entries)
            }
            b'(' => self.parenthesised()?,
            b'b' if self.bytes.get(self.at + 1) == Some(&b'"') => {
                self.at += 1;
                self.string()?;
                Kind::Scalar(None)
            }
            b if b.is_ascii_alphabetic() || b == b'_' || b >= 0x80 => {
                self.identifier()?;
                let after = self.at;
                self.skip_trivia();
                if self.peek() == Some(b'(') {
                    self.parenthesised()?
                } else {
                    self.at = after;
                    Kind::Scalar(None)
                }
            }
            _ => {
                // A number: sign, digits, point, exponent, underscores, suffixes, inf/NaN.
                let begin = self.at;
                while self.peek().is_some_and(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.' | b'_')
                }) {
                    self.at += 1;
                }
                if self.at == begin {
                    return None;
                }
                Kind::Scalar(None)
            }
        };
        Some(Node { start, kind })
    }

    /// `(` … `)` starting here: a struct when it opens with `name:`, else a tuple.
    fn parenthesised(&mut self) -> Option<Kind> {
        if !self.eat(b'(') {
            return None;
        }
        self.skip_trivia();
        let save = self.at;
        let is_struct = self.identifier().is_some() && {
            self.skip_trivia();
            self.peek() == Some(b':') && self.bytes.get(self.at + 1) != Some(&b':')
        };
        self.at = save;
        if !is_struct {
            return Some(Kind::Tuple(self.items(b')')?));
        }
        let mut fields = Vec::new();
        loop {
            if self.eat(b')') {
                break;
            }
            self.skip_trivia();
            let key_at = self.at;
            let name = self.identifier()?.trim_start_matches("r#").to_string();
            if !self.eat(b':') {
                return None;
            }
            let value = self.value()?;
            fields.push((name, key_at, value));
            if !self.eat(b',') {
                if self.eat(b')') {
                    break;
                }
                return None;
            }
        }
        Some(Kind::Struct(fields))
    }

    /// Comma-separated values up to `close` (a trailing comma allowed).
    fn items(&mut self, close: u8) -> Option<Vec<Node>> {
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                return Some(items);
            }
            items.push(self.value()?);
            if !self.eat(b',') {
                return self.eat(close).then_some(items);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_fields_items_and_map_entries_with_their_offsets() {
        let text = r##"// a comment
#![enable(implicit_some)]
Sweep(
    name: "g", /* a /* nested */ comment */
    grid: {
        "lane": ["a", r#"b"#, ["c", "d"]],
        "training.learning_rate": [0.05, -1e-3,],
    },
    list: [{"seed": 3}, ()],
    opt: Some((x: 'y', z: Dense)),
)"##;
        let root = outline(text).unwrap();
        let at = |n: &Node| &text[n.start..];
        let grid = root.field("grid").unwrap();
        let (key, value) = grid.entry(1).unwrap();
        assert_eq!(
            key.kind,
            Kind::Scalar(Some("training.learning_rate".into()))
        );
        assert!(at(value.item(1).unwrap()).starts_with("-1e-3"));
        let lanes = grid.entry(0).unwrap().1;
        assert_eq!(lanes.item(1).unwrap().kind, Kind::Scalar(Some("b".into())));
        assert!(at(lanes.item(2).unwrap().item(1).unwrap()).starts_with("\"d\""));
        let list = root.field("list").unwrap();
        assert!(at(list.item(0).unwrap().entry(0).unwrap().1).starts_with("3}"));
        let opt = root.field("opt").unwrap().unwrap_some();
        assert!(at(opt.field("z").unwrap()).starts_with("Dense"));
        match &root.kind {
            Kind::Struct(fields) => assert!(text[fields[0].1..].starts_with("name:")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn gives_up_on_what_is_not_ron() {
        assert_eq!(outline("Sweep(name: )"), None);
        assert_eq!(outline("[1, 2"), None);
        assert_eq!(outline(""), None);
    }
}
