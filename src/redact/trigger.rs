//! The bytes without which no detector can match: derived from the patterns' syntax trees at
//! policy load, so a string holding none of them (a key such as `clinical_notes`, a code such
//! as `final`) skips the automaton. Sound by construction: whatever a pattern is changed to,
//! the set follows it.

use regex_syntax::hir::{Class, Hir, HirKind};

/// A set of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Bytes([u64; 4]);

impl Bytes {
    fn insert(&mut self, b: u8) {
        if let Some(word) = self.0.get_mut(usize::from(b >> 6)) {
            *word |= 1 << (b & 63);
        }
    }

    fn insert_range(&mut self, from: u8, to: u8) {
        (from..=to).for_each(|b| self.insert(b));
    }

    pub(super) fn contains(&self, b: u8) -> bool {
        self.0
            .get(usize::from(b >> 6))
            .is_some_and(|word| word & (1 << (b & 63)) != 0)
    }

    pub(super) fn union(mut self, other: Bytes) -> Bytes {
        for (mine, theirs) in self.0.iter_mut().zip(other.0) {
            *mine |= theirs;
        }
        self
    }

    /// Whether any byte of `text` is in the set.
    pub(super) fn any_in(&self, text: &str) -> bool {
        text.bytes().any(|b| self.contains(b))
    }

    /// How often a key or a code is expected to hold one of these bytes, roughly: letters as
    /// often as in English (capitals a quarter of that), digits, spaces and punctuation far
    /// less, non-ASCII least (free text is searched anyway: it holds spaces and digits). Only which requirement is kept
    /// depends on it, never whether the set is sound.
    fn weight(&self) -> u32 {
        // Per mille, a to z.
        const LETTERS: [u32; 26] = [
            82, 15, 28, 43, 127, 22, 20, 61, 70, 2, 8, 40, 24, 67, 75, 19, 1, 60, 63, 91, 28, 10,
            24, 2, 20, 1,
        ];
        let letter = |b: u8| {
            LETTERS
                .get(usize::from(b.to_ascii_lowercase() - b'a'))
                .copied()
        };
        (0..=255u8)
            .filter(|b| self.contains(*b))
            .map(|b| match b {
                b'a'..=b'z' => letter(b).unwrap_or(100),
                b'A'..=b'Z' => letter(b).map_or(100, |w| w / 4 + 1),
                b' ' => 10,
                b'0'..=b'9' => 1,
                0x80..=0xff => 1,
                _ => 5,
            })
            .sum()
    }
}

/// Bytes at least one of which every match of `pattern` contains; `None` when the pattern
/// could match without any particular byte (it may match empty, say) or does not parse.
pub(super) fn required_bytes(pattern: &str) -> Option<Bytes> {
    required(&regex_syntax::parse(pattern).ok()?)
}

fn required(hir: &Hir) -> Option<Bytes> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => None,
        // Every byte of a literal is in the match: the rarest one is required.
        HirKind::Literal(lit) => lit
            .0
            .iter()
            .map(|&b| {
                let mut set = Bytes::default();
                set.insert(b);
                set
            })
            .min_by_key(Bytes::weight),
        HirKind::Class(class) => Some(class_bytes(class)),
        HirKind::Repetition(rep) if rep.min >= 1 => required(&rep.sub),
        HirKind::Repetition(_) => None,
        HirKind::Capture(cap) => required(&cap.sub),
        // Each part is in the match: the rarest requirement among them.
        HirKind::Concat(parts) => parts.iter().filter_map(required).min_by_key(Bytes::weight),
        // Any branch may be the one that matched: all their requirements together.
        HirKind::Alternation(branches) => branches
            .iter()
            .map(required)
            .try_fold(Bytes::default(), |all, one| Some(all.union(one?))),
    }
}

/// The bytes a character of the class may consume. A non-ASCII character is encoded with
/// bytes of 0x80 and above only, so all of those stand for it.
fn class_bytes(class: &Class) -> Bytes {
    let mut set = Bytes::default();
    match class {
        Class::Bytes(bytes) => bytes
            .ranges()
            .iter()
            .for_each(|r| set.insert_range(r.start(), r.end())),
        Class::Unicode(chars) => {
            for range in chars.ranges() {
                let (start, end) = (u32::from(range.start()), u32::from(range.end()));
                if start < 0x80 {
                    let ascii_end = end.min(0x7f);
                    set.insert_range(start as u8, ascii_end as u8);
                }
                if end >= 0x80 {
                    set.insert_range(0x80, 0xff);
                }
            }
        }
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(pattern: &str) -> Vec<u8> {
        let Some(bytes) = required_bytes(pattern) else {
            return Vec::new();
        };
        (0..=255u8).filter(|b| bytes.contains(*b)).collect()
    }

    #[test]
    fn every_match_holds_a_byte_of_the_set() {
        assert_eq!(set("abc1"), b"1");
        assert_eq!(set("e+@e"), b"@");
        assert_eq!(set("[0-9]{3}-e"), b"-");
        assert_eq!(set("a|b"), b"ab");
        assert_eq!(set("(a|[0-9])z*"), b"0123456789a");
        // Optional parts, look-arounds and empty matches require nothing.
        assert!(required_bytes("a?").is_none());
        assert!(required_bytes(r"\b").is_none());
        assert!(required_bytes("a|").is_none());
        assert!(required_bytes("(").is_none());
    }

    /// Case folding reaches past ASCII (`k` folds to the Kelvin sign): the set must then
    /// hold every byte such a character can be encoded with.
    #[test]
    fn a_class_with_non_ascii_characters_stands_for_every_high_byte() {
        let k = set("(?i)k");
        assert!(k.contains(&b'k') && k.contains(&b'K'));
        assert!((0x80..=0xff).all(|b| k.contains(&b)));
        assert!(!set("(?i-u)k").contains(&0x80));
    }
}
