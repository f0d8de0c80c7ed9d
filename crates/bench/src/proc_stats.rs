//! A process's memory and CPU time from `/proc/<pid>/status` and `/proc/<pid>/stat`.

use std::time::Duration;

/// One reading of a process.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProcSample {
    /// Resident set size (`VmRSS`), KiB.
    pub rss_kib: u64,
    /// Peak resident set size (`VmHWM`), KiB.
    pub peak_rss_kib: u64,
    /// Threads.
    pub threads: u64,
    /// User + system CPU time so far.
    pub cpu: Duration,
}

/// Reads `/proc/<pid>/status` and `/proc/<pid>/stat`.
///
/// # Errors
/// When the process does not exist (any more) or the files cannot be read.
pub fn sample(pid: u32, clock_ticks_per_sec: u64) -> std::io::Result<ProcSample> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let ticks = cpu_ticks(&stat).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("unreadable /proc/{pid}/stat"),
        )
    })?;
    Ok(ProcSample {
        rss_kib: status_field(&status, "VmRSS:").unwrap_or(0),
        peak_rss_kib: status_field(&status, "VmHWM:").unwrap_or(0),
        threads: status_field(&status, "Threads:").unwrap_or(0),
        cpu: Duration::from_secs_f64(ticks as f64 / clock_ticks_per_sec.max(1) as f64),
    })
}

/// The first number of a `Name:   value kB` line.
fn status_field(status: &str, name: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(name))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// `utime + stime` (fields 14 and 15) of a `stat` line; the command name in parentheses
/// may contain spaces, so fields are counted after its closing parenthesis.
fn cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state): utime is field 14 → index 11.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// `getconf CLK_TCK` (100 when it cannot be run).
pub fn clock_ticks_per_sec() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_are_counted_after_a_command_name_with_spaces() {
        let stat = "1234 (tokio runtime) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 75 0 0 20 0 9 0 100 1000 200";
        assert_eq!(cpu_ticks(stat), Some(325));
        assert_eq!(cpu_ticks("garbage"), None);
    }

    #[test]
    fn status_fields_are_read_in_kib() {
        let status = "Name:\tcsms\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\nThreads:\t3\n";
        assert_eq!(status_field(status, "VmRSS:"), Some(10_240));
        assert_eq!(status_field(status, "VmHWM:"), Some(20_480));
        assert_eq!(status_field(status, "Threads:"), Some(3));
        assert_eq!(status_field(status, "VmSwap:"), None);
    }

    #[test]
    fn this_process_can_be_sampled() {
        let me = sample(std::process::id(), clock_ticks_per_sec()).unwrap();
        assert!(me.rss_kib > 0 && me.threads > 0, "{me:?}");
    }
}
