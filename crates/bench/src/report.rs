//! The Markdown report: machine, command, date, targets, one section per scenario, and
//! the errors of scenarios that did not reach their outcome.

use std::fmt::Write as _;

use crate::machine::Machine;

/// One target of issue 10 and whether this run met it.
#[derive(Debug, Clone)]
pub struct Target {
    /// What is measured (`idle memory per charger, csms/sqlite, 1000 chargers`).
    pub name: String,
    /// The goal (`≤ 1.5× baseline`).
    pub goal: String,
    /// What this run measured.
    pub measured: String,
    /// Met, missed, or not judged (no baseline / not measured).
    pub met: Option<bool>,
}

/// Everything a run produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Markdown sections, in scenario order.
    pub sections: Vec<String>,
    /// Targets judged.
    pub targets: Vec<Target>,
    /// `scenario: reason` for every scenario that failed.
    pub errors: Vec<String>,
}

/// What the header of the report says about the run.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// The command line.
    pub command: String,
    /// UTC date and time of the start.
    pub date: String,
    /// `smoke`, `medium`, `full`.
    pub size: String,
    /// Databases run.
    pub databases: String,
    /// The csms binary used.
    pub csms_binary: String,
    /// Wall time of the whole run.
    pub duration_secs: f64,
    /// A note printed at the top (e.g. that the figures are provisional).
    pub note: Option<String>,
}

/// `1.23×`, or `–` without a baseline.
pub fn ratio(value: f64, baseline: f64) -> String {
    if baseline > 0.0 && value.is_finite() {
        format!("{:.2}×", value / baseline)
    } else {
        "–".into()
    }
}

/// Renders the whole report.
pub fn render(machine: &Machine, run: &RunInfo, outcome: &Outcome) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Benchmarks\n");
    if let Some(note) = &run.note {
        let _ = writeln!(md, "> **{note}**\n");
    }
    let _ = writeln!(
        md,
        "Written by `csms-bench run` (crate `crates/bench`; method and profiles in \
         [docs/benchmarks.md](docs/benchmarks.md)). Every figure of csms is compared with \
         `bench-baseline`, a bare WebSocket server answering every CALL with a fixed \
         CALLRESULT, measured in the same run on the same machine. Load comes from the \
         same process as the runner over loopback, so the servers share the CPUs with it.\n"
    );
    let _ = writeln!(md, "## Machine and run\n");
    let _ = writeln!(md, "| | |\n|---|---|");
    let _ = writeln!(md, "| CPUs (`nproc`) | {} |", machine.cpus);
    let _ = writeln!(md, "| CPU model | {} |", machine.cpu_model);
    let _ = writeln!(
        md,
        "| memory | {:.1} GiB |",
        machine.memory_kib as f64 / 1_048_576.0
    );
    let _ = writeln!(md, "| kernel | {} |", machine.kernel);
    let _ = writeln!(
        md,
        "| open files (soft / hard, `ulimit -n` / `-Hn`) | {} / {} (largest fleet: {} chargers) |",
        machine.nofile_soft,
        machine.nofile_hard,
        machine.max_chargers()
    );
    let _ = writeln!(md, "| command | `{}` |", run.command);
    let _ = writeln!(md, "| date (UTC) | {} |", run.date);
    let _ = writeln!(md, "| size | {} |", run.size);
    let _ = writeln!(md, "| databases | {} |", run.databases);
    let _ = writeln!(md, "| csms binary | `{}` |", run.csms_binary);
    let _ = writeln!(md, "| run time | {:.0} s |\n", run.duration_secs);

    let _ = writeln!(md, "## Targets (issue 10; judged on SQLite)\n");
    if outcome.targets.is_empty() {
        let _ = writeln!(md, "No target was measured in this run.\n");
    } else {
        let _ = writeln!(md, "| target | goal | measured | met |\n|---|---|---|---|");
        for t in &outcome.targets {
            let met = match t.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "–",
            };
            let _ = writeln!(md, "| {} | {} | {} | {met} |", t.name, t.goal, t.measured);
        }
        let _ = writeln!(md);
    }
    for section in &outcome.sections {
        let _ = writeln!(md, "{section}");
    }
    if !outcome.errors.is_empty() {
        let _ = writeln!(md, "## Errors\n");
        for e in &outcome.errors {
            let _ = writeln!(md, "- {}", e.replace('\n', "\n  "));
        }
        let _ = writeln!(md);
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_shows_machine_targets_sections_and_errors() {
        let machine = Machine::detect();
        let run = RunInfo {
            command: "csms-bench run --size smoke".into(),
            date: "2026-01-01 00:00:00".into(),
            size: "smoke".into(),
            databases: "sqlite".into(),
            csms_binary: "target/debug/csms".into(),
            duration_secs: 12.0,
            note: Some("Provisional".into()),
        };
        let outcome = Outcome {
            sections: vec!["## Idle footprint\n\n| a |\n".into()],
            targets: vec![Target {
                name: "idle memory".into(),
                goal: "≤ 1.5×".into(),
                measured: "1.2×".into(),
                met: Some(true),
            }],
            errors: vec!["storm: 3 of 5 booted".into()],
        };
        let md = render(&machine, &run, &outcome);
        for needle in [
            "> **Provisional**",
            "| CPUs (`nproc`) |",
            "`csms-bench run --size smoke`",
            "| idle memory | ≤ 1.5× | 1.2× | yes |",
            "## Idle footprint",
            "- storm: 3 of 5 booted",
        ] {
            assert!(md.contains(needle), "missing {needle} in\n{md}");
        }
        assert_eq!(ratio(3.0, 2.0), "1.50×");
        assert_eq!(ratio(3.0, 0.0), "–");
    }
}
