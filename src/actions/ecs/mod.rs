//! ECS actions, one file each: `ecs.capacity` (EC2 capacity for the cluster first),
//! `ecs.scale` (desired counts), `ecs.use_file_system` (a service's EFS volume onto a
//! restored file system), and what they share about services (`services`).

mod capacity;
mod scale;
mod services;
mod use_file_system;

pub(crate) use capacity::Capacity;
pub(crate) use scale::Scale;
pub(crate) use use_file_system::UseFileSystem;
