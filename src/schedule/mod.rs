//! EventBridge Scheduler schedules that run drctl's Lambda function: one per scheduled drill
//! and one for the frequent `check`. The desired set is built from drill files (`desired`),
//! compared with what the schedule group holds (`diff`, pure), and the difference is carried
//! out by `remote`, the only part that calls AWS. `render` draws the plan for people.

mod desired;
mod diff;
mod remote;
mod render;

pub use desired::{
    CHECK_SCHEDULE, DRILL_PREFIX, DesiredSchedule, MANAGED_PREFIX, ScheduleProblem, ScheduleTarget,
    check_input, desired_schedules, drill_input, drill_schedule_name,
};
pub use diff::{Change, ChangeKind, CurrentSchedule, Field, FieldChange, SchedulePlan, diff};
pub use remote::{ScheduleError, ScheduleGroup};
pub use render::render_plan;
