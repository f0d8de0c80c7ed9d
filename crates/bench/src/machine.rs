//! What the report says about the machine: CPUs, model, memory, kernel, open-files limit.

/// The machine a run happened on.
#[derive(Debug, Clone)]
pub struct Machine {
    /// Online CPUs (`nproc`).
    pub cpus: usize,
    /// `model name` of `/proc/cpuinfo`.
    pub cpu_model: String,
    /// `MemTotal` of `/proc/meminfo`, KiB.
    pub memory_kib: u64,
    /// `/proc/sys/kernel/osrelease`.
    pub kernel: String,
    /// Open-files soft limit (after raising it) and hard limit.
    pub nofile_soft: u64,
    /// Open-files hard limit.
    pub nofile_hard: u64,
}

impl Machine {
    /// Reads this machine's description.
    pub fn detect() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let (nofile_soft, nofile_hard) =
            rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap_or((0, 0));
        Machine {
            cpus: std::thread::available_parallelism().map_or(1, usize::from),
            cpu_model: cpuinfo
                .lines()
                .find_map(|l| l.strip_prefix("model name"))
                .and_then(|l| l.split_once(':'))
                .map_or_else(|| "unknown".into(), |(_, m)| m.trim().to_owned()),
            memory_kib: meminfo
                .lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map_or_else(|_| "unknown".into(), |k| k.trim().to_owned()),
            nofile_soft,
            nofile_hard,
        }
    }

    /// The most chargers one process may hold: the open-files hard limit less a margin
    /// for the process's own files (database, listeners, logs), in hundreds.
    pub fn max_chargers(&self) -> usize {
        let limit = usize::try_from(self.nofile_hard).unwrap_or(usize::MAX);
        limit.saturating_sub(300) / 100 * 100
    }
}

/// Raises this process's open-files soft limit to the hard limit (children inherit it).
/// Returns the new soft limit.
pub fn raise_open_files_limit() -> u64 {
    rlimit::increase_nofile_limit(u64::MAX).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_fleet_leaves_room_under_the_hard_limit() {
        let mut m = Machine::detect();
        assert!(m.cpus >= 1 && m.memory_kib > 0);
        m.nofile_hard = 20_000;
        assert_eq!(m.max_chargers(), 19_700);
        m.nofile_hard = 1_024;
        assert_eq!(m.max_chargers(), 700);
    }
}
