//! Redaction: what the MCP server sends back is rewritten so each role sees only what it may.
//! Field rules (JSONPath or key globs) act on tool payloads — `structuredContent`, the JSON in
//! `content[].text` and embedded resources, legacy `result.data`, `error.data`; detectors act on
//! every string leaf; a value a field rule redacted is also scrubbed wherever else it appears.

mod binary;
pub mod config;
pub mod detect;
mod embedded;
mod fhir;
mod fields;
mod known;
mod message;
mod path;
mod profile;
mod redactor;
mod replace;
mod scan;
mod schema;
mod texts;
#[doc(hidden)]
pub mod tree;
mod trigger;

use std::collections::BTreeMap;

use detect::Entity;

pub use profile::Redaction;
pub use redactor::Redactor;
pub use schema::Asked;

/// Redactions made, by entity (metric label) → count. Never the values.
pub type Counts = BTreeMap<&'static str, u64>;

/// Counts kept while redacting: one slot per entity, cheaper than a map on the hot path, and
/// a bit per entity counted, so merging the (mostly empty) tally of each string visits only
/// the kinds it holds.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    counts: [u64; Entity::ALL.len()],
    kinds: u32,
}

const _: () = assert!(Entity::ALL.len() <= u32::BITS as usize);

impl Tally {
    fn add(&mut self, entity: Entity) {
        self.add_n(entity as usize, 1);
    }

    fn add_n(&mut self, kind: usize, n: u64) {
        // `Entity::ALL` lists every kind (tested); `get_mut` keeps a missed one from panicking.
        if let Some(slot) = self.counts.get_mut(kind) {
            *slot += n;
            self.kinds |= 1 << kind;
        }
    }

    /// Adds `other` in, `times` times.
    fn merge(&mut self, other: &Tally, times: u64) {
        let mut kinds = other.kinds;
        while kinds != 0 {
            let kind = kinds.trailing_zeros() as usize;
            self.add_n(kind, other.counts.get(kind).map_or(0, |n| n * times));
            kinds &= kinds - 1;
        }
    }

    /// Adds counts made by another walk (JSON a string carried).
    fn add_counts(&mut self, counts: &Counts) {
        for entity in Entity::ALL {
            if let Some(&n) = counts.get(entity.metric_label()) {
                self.add_n(entity as usize, n);
            }
        }
    }

    fn into_counts(self) -> Counts {
        Entity::ALL
            .into_iter()
            .zip(self.counts)
            .filter(|(_, n)| *n > 0)
            .map(|(e, n)| (e.metric_label(), n))
            .collect()
    }
}

/// Adds `from` into `into`.
pub fn merge_counts(into: &mut Counts, from: Counts) {
    merge(into, from)
}

fn merge(into: &mut Counts, from: Counts) {
    for (k, v) in from {
        *into.entry(k).or_default() += v;
    }
}

#[cfg(test)]
mod tests;
