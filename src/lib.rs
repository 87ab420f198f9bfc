//! drctl: disaster-recovery orchestration.
