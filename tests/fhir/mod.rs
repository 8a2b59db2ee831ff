//! The pieces of `tests/fhir_corpus.rs`: a seeded generator (`rng`); the ground truth and how
//! a leak is recognised in a redacted answer (`truth`); the utility values that must survive
//! (`utility`); the FHIR R4 / US Core patients (`patients`, their free text in `notes`, the
//! words both draw from in `vocab`); the generic, non-FHIR corpus (`generic`).

#![allow(dead_code)]

pub mod generic;
pub mod notes;
pub mod patients;
pub mod rng;
pub mod truth;
pub mod utility;
pub mod vocab;
