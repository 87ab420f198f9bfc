//! `ecr.replicate`: make sure the images the recovery region will run are there.
//!
//! ECR replication copies only what is pushed after a rule exists, "the majority in less than
//! 30 minutes", so right after a push, or for images older than the rule, the recovery region
//! can lack an image the services need. This action ensures a registry replication rule to
//! the step's region (keeping every existing rule), then compares each repository across the
//! two regions by digest and copies what is missing: BatchGetImage in the source gives the
//! exact manifest and media type, and PutImage of those bytes in the destination yields the
//! same digest. Digests are only ever compared as the API returns them; drctl never computes
//! one (registries and emulators differ in how they do).
//!
//! PutImage only writes the manifest: the layers must already be in the destination region
//! (true when ECR replication or an earlier push brought them). When they are not, ECR answers
//! LayersNotFoundException and the step fails saying so; copying layer blobs is the job of
//! replication (or `docker pull` + `docker push`), not of this action.
//!
//! Every mutation is journalled before it is made, so a resumed step sees what it already did
//! (and the RPO evidence of the state it found at first), and a drill's undo removes exactly
//! the images, tags, repositories and rule this step added.

pub(crate) mod images;
mod replicate;
mod rule;

pub(crate) use images::{evidence, list_images, missing_in, source_repositories};
pub(crate) use replicate::Replicate;
