//! Measurement: the injectable clock and the RTO/RPO computation with evidence
//! (DESIGN.md section 2).

mod clock;
mod rpo;

pub use clock::Clock;
pub use rpo::{
    Evidence, EvidenceKind, Measurement, RpoFigure, RpoItem, RtoFigure, StepTiming, measure,
};
