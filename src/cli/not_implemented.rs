//! The answer of commands this build does not have yet: say so plainly, say what they wait
//! for, exit 6. Never pretend to have done the work.

use super::exit::Exit;
use super::settings::Settings;

/// Prints why `command` cannot run in this build and returns exit 6.
pub(crate) fn not_implemented(settings: &Settings, command: &str, waits_for: &str) -> Exit {
    let error = if settings.color {
        "\x1b[1;31merror\x1b[0m"
    } else {
        "error"
    };
    eprintln!("{error}: `drctl {command}` is not implemented in this build");
    eprintln!("  it waits for: {waits_for}");
    eprintln!("  nothing was read or changed; `drctl validate` and `drctl plan` work now");
    Exit::NotImplemented
}
