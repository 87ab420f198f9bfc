//! The schedule group in AWS: read what it holds, carry out a plan, delete drctl's schedules.
//! The only part of `schedule` that calls AWS; it never prints (the CLI gets a callback per
//! change made).
//!
//! Reading lists the group's `drctl-` schedules (ListSchedules, paginated) and reads each
//! one (GetSchedule), since a listing carries no input or role. Every mutating call sends
//! the whole schedule: UpdateSchedule replaces every field it is not given.

use aws_sdk_scheduler::types::{FlexibleTimeWindow, FlexibleTimeWindowMode, ScheduleState, Target};

use super::desired::{DesiredSchedule, MANAGED_PREFIX};
use super::diff::{ChangeKind, CurrentSchedule, SchedulePlan, diff};
use crate::aws::{AwsClients, AwsError, aws_err};

/// A failed scheduler call, naming what was being done to which schedule.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// Reads after "failed to": "create schedule `drctl-check` in group `drctl` (us-west-2): ...".
    #[error("{verb} schedule `{name}` in group `{group}` ({region}): {cause}")]
    Schedule {
        verb: &'static str,
        name: String,
        group: String,
        region: String,
        cause: Box<AwsError>,
    },
    #[error("{verb} schedule group `{group}` ({region}): {cause}")]
    Group {
        verb: &'static str,
        group: String,
        region: String,
        cause: Box<AwsError>,
    },
    #[error("build the request for schedule `{name}`: {message}")]
    Request { name: String, message: String },
}

/// One schedule group in one region.
#[derive(Debug, Clone)]
pub struct ScheduleGroup {
    client: aws_sdk_scheduler::Client,
    region: String,
    group: String,
}

impl ScheduleGroup {
    pub fn new(aws: &AwsClients, region: &str, group: &str) -> Self {
        ScheduleGroup {
            client: aws.scheduler(region),
            region: region.to_string(),
            group: group.to_string(),
        }
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn name(&self) -> &str {
        &self.group
    }

    fn group_error(&self, verb: &'static str) -> impl FnOnce(AwsError) -> ScheduleError + '_ {
        move |cause| ScheduleError::Group {
            verb,
            group: self.group.clone(),
            region: self.region.clone(),
            cause: Box::new(cause),
        }
    }

    fn schedule_error<'a>(
        &'a self,
        verb: &'static str,
        name: &'a str,
    ) -> impl FnOnce(AwsError) -> ScheduleError + 'a {
        move |cause| ScheduleError::Schedule {
            verb,
            name: name.to_string(),
            group: self.group.clone(),
            region: self.region.clone(),
            cause: Box::new(cause),
        }
    }

    /// Whether the group exists (GetScheduleGroup).
    pub async fn exists(&self) -> Result<bool, ScheduleError> {
        match self
            .client
            .get_schedule_group()
            .name(&self.group)
            .send()
            .await
            .map_err(aws_err("scheduler:GetScheduleGroup"))
        {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(self.group_error("read")(e)),
        }
    }

    /// Every `drctl-` schedule in the group, read in full, sorted by name. Empty when the
    /// group does not exist.
    pub async fn managed(&self) -> Result<Vec<CurrentSchedule>, ScheduleError> {
        let summaries = self
            .client
            .list_schedules()
            .group_name(&self.group)
            .name_prefix(MANAGED_PREFIX)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(aws_err("scheduler:ListSchedules"))
            .map_err(self.group_error("list the schedules of"))?;
        let mut names: Vec<String> = summaries
            .iter()
            .filter_map(|s| s.name())
            // NamePrefix is a filter AWS applies; checking again costs nothing and keeps
            // anything else out of reach of apply and remove.
            .filter(|n| n.starts_with(MANAGED_PREFIX))
            .map(str::to_owned)
            .collect();
        names.sort();
        let mut schedules = Vec::with_capacity(names.len());
        for name in &names {
            match self.get(name).await {
                Ok(s) => schedules.push(s),
                // Deleted between the listing and now: it is not there.
                Err(ScheduleError::Schedule { cause, .. }) if cause.is_not_found() => {}
                Err(e) => return Err(e),
            }
        }
        Ok(schedules)
    }

    async fn get(&self, name: &str) -> Result<CurrentSchedule, ScheduleError> {
        let out = self
            .client
            .get_schedule()
            .group_name(&self.group)
            .name(name)
            .send()
            .await
            .map_err(aws_err("scheduler:GetSchedule"))
            .map_err(self.schedule_error("read", name))?;
        let target = out.target();
        Ok(CurrentSchedule {
            name: name.to_string(),
            expression: out.schedule_expression().unwrap_or_default().to_string(),
            timezone: out.schedule_expression_timezone().map(str::to_owned),
            input: target.and_then(|t| t.input()).map(str::to_owned),
            target_arn: target.map(|t| t.arn().to_string()).unwrap_or_default(),
            role_arn: target.map(|t| t.role_arn().to_string()).unwrap_or_default(),
            description: out.description().map(str::to_owned),
            window: out
                .flexible_time_window()
                .map(|w| w.mode().as_str().to_string()),
            state: out.state().map(|s| s.as_str().to_string()),
        })
    }

    /// What `apply` would do to make the group hold exactly `desired` (read-only).
    pub async fn plan(&self, desired: &[DesiredSchedule]) -> Result<SchedulePlan, ScheduleError> {
        let group_exists = self.exists().await?;
        let current = if group_exists {
            self.managed().await?
        } else {
            Vec::new()
        };
        Ok(SchedulePlan {
            region: self.region.clone(),
            group: self.group.clone(),
            group_exists,
            changes: diff(desired, &current),
        })
    }

    /// Carry out `plan`: create the group if it was missing, then create, update and delete
    /// schedules in name order, calling `done` after each. Stops at the first failure; what
    /// was done stays done, and planning again picks up from there.
    pub async fn apply(
        &self,
        plan: &SchedulePlan,
        mut done: impl FnMut(ChangeKind, &str),
    ) -> Result<(), ScheduleError> {
        if !plan.group_exists {
            self.client
                .create_schedule_group()
                .name(&self.group)
                .send()
                .await
                .map_err(aws_err("scheduler:CreateScheduleGroup"))
                .map_err(self.group_error("create"))?;
        }
        for change in &plan.changes {
            match (change.action, &change.desired) {
                (ChangeKind::Create, Some(want)) => self.create(want).await?,
                (ChangeKind::Update, Some(want)) => self.update(want).await?,
                (ChangeKind::Delete, _) => self.delete(&change.name).await?,
                _ => continue,
            }
            done(change.action, &change.name);
        }
        Ok(())
    }

    fn target(want: &DesiredSchedule) -> Result<Target, ScheduleError> {
        Target::builder()
            .arn(&want.target_arn)
            .role_arn(&want.role_arn)
            .input(&want.input)
            .build()
            .map_err(|e| ScheduleError::Request {
                name: want.name.clone(),
                message: e.to_string(),
            })
    }

    fn window(want: &DesiredSchedule) -> Result<FlexibleTimeWindow, ScheduleError> {
        FlexibleTimeWindow::builder()
            .mode(FlexibleTimeWindowMode::Off)
            .build()
            .map_err(|e| ScheduleError::Request {
                name: want.name.clone(),
                message: e.to_string(),
            })
    }

    async fn create(&self, want: &DesiredSchedule) -> Result<(), ScheduleError> {
        self.client
            .create_schedule()
            .group_name(&self.group)
            .name(&want.name)
            .schedule_expression(&want.expression)
            .schedule_expression_timezone("UTC")
            .flexible_time_window(Self::window(want)?)
            .target(Self::target(want)?)
            .description(&want.description)
            .state(ScheduleState::Enabled)
            .send()
            .await
            .map_err(aws_err("scheduler:CreateSchedule"))
            .map_err(self.schedule_error("create", &want.name))?;
        Ok(())
    }

    async fn update(&self, want: &DesiredSchedule) -> Result<(), ScheduleError> {
        self.client
            .update_schedule()
            .group_name(&self.group)
            .name(&want.name)
            .schedule_expression(&want.expression)
            .schedule_expression_timezone("UTC")
            .flexible_time_window(Self::window(want)?)
            .target(Self::target(want)?)
            .description(&want.description)
            .state(ScheduleState::Enabled)
            .send()
            .await
            .map_err(aws_err("scheduler:UpdateSchedule"))
            .map_err(self.schedule_error("update", &want.name))?;
        Ok(())
    }

    /// Delete one schedule; one that is already gone counts as deleted.
    pub async fn delete(&self, name: &str) -> Result<(), ScheduleError> {
        match self
            .client
            .delete_schedule()
            .group_name(&self.group)
            .name(name)
            .send()
            .await
            .map_err(aws_err("scheduler:DeleteSchedule"))
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(self.schedule_error("delete", name)(e)),
        }
    }
}
