//! drctl: disaster-recovery orchestration for an ECS/EFS/ECR/Secrets Manager/Route 53 stack.
//!
//! Layers (each only looks down): `cli` → `runbook`, `engine`, `report`, `posture`, `schedule` →
//! `actions`, `measure`, `store` → `aws`. See `../shared/DESIGN.md` section 3.

pub mod actions;
pub mod aws;
pub mod cli;
pub mod engine;
pub mod lambda;
pub mod measure;
pub mod posture;
pub mod report;
pub mod runbook;
pub mod runner;
pub mod schedule;
pub mod store;
