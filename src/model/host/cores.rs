//! How many cores the host engine's matrix products may use: the cores that other processes
//! leave free, re-measured while training runs.
//!
//! OpenBLAS splits each product over its threads and its idle threads spin (`sched_yield`)
//! waiting for the next one. On an idle machine that costs nothing; when another CPU-bound
//! job shares the cores, every product waits for a thread that the scheduler has parked
//! behind that job, and a host-engine epoch took 3.7x as long with one single-threaded peer
//! on 2 cores (docs/performance.md). [`CoreWatch`] reads the machine's and this process's CPU
//! time from `/proc` every few seconds and says how many cores the other processes leave,
//! so that the products use only those.

use std::time::{Duration, Instant};

/// CPU time counters at one moment, in clock ticks.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Counters {
    /// Every core's time in every state (busy or idle), summed.
    total: u64,
    /// Every core's busy time (not idle, not waiting for I/O), summed.
    busy: u64,
    /// This process's busy time (user + system, all its threads).
    own: u64,
}

/// Cores' worth of CPU time that `others_busy` of `total` ticks (summed across `cores` cores)
/// amount to; 0 for an empty window.
fn in_cores(cores: usize, others_busy: u64, total: u64) -> f64 {
    if total == 0 {
        return 0.0;
    }
    cores as f64 * others_busy as f64 / total as f64
}

/// Cores free for this process's products, from a window's counters: `cores` minus the cores
/// the other processes kept busy (`others_busy` of `total` ticks across all cores), rounded
/// to the nearest core and at least 1.
pub fn free_cores(cores: usize, others_busy: u64, total: u64) -> usize {
    let cores = cores.max(1);
    let others = in_cores(cores, others_busy, total);
    ((cores as f64 - others).round() as usize).clamp(1, cores)
}

/// The busy and total ticks of `/proc/stat`'s first line (`cpu user nice system idle iowait
/// irq softirq steal ...`); guest time is already inside user time.
fn parse_stat(text: &str) -> Option<(u64, u64)> {
    let line = text.lines().next()?.strip_prefix("cpu ")?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .take(8)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    if fields.len() < 4 {
        return None;
    }
    let total: u64 = fields.iter().sum();
    let idle = fields[3] + fields.get(4).copied().unwrap_or(0);
    Some((total - idle, total))
}

/// User plus system ticks of `/proc/self/stat` (fields 14 and 15, counted after the
/// parenthesised command name, which may hold spaces).
fn parse_self_stat(text: &str) -> Option<u64> {
    let after = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // `after` starts at field 3 (state); utime is field 14, stime field 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

fn read_counters() -> Option<Counters> {
    let (busy, total) = parse_stat(&std::fs::read_to_string("/proc/stat").ok()?)?;
    let own = parse_self_stat(&std::fs::read_to_string("/proc/self/stat").ok()?)?;
    Some(Counters { total, busy, own })
}

/// One measurement of [`CoreWatch`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Load {
    /// Cores' worth of CPU time the other processes used, on average over the window.
    pub others: f64,
    /// Cores left for this process ([`free_cores`]).
    pub free: usize,
}

/// Watches how many cores other processes leave free; see the module docs.
#[derive(Debug)]
pub struct CoreWatch {
    cores: usize,
    every: Duration,
    last: Option<(Instant, Counters)>,
    /// Measurements made so far.
    readings: u64,
}

impl CoreWatch {
    /// A watch over this machine's cores (as `available_parallelism` reports them, so a
    /// cgroup or `taskset` limit counts) that re-measures at most once per `every`.
    pub fn new(every: Duration) -> CoreWatch {
        CoreWatch {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            every,
            last: read_counters().map(|c| (Instant::now(), c)),
            readings: 0,
        }
    }

    /// The load since the last measurement, when `every` has passed since it (a quarter of
    /// it for the first measurement; else `None`). `None` too where `/proc` cannot be read (not Linux).
    pub fn poll(&mut self) -> Option<Load> {
        let (at, before) = self.last?;
        // The first reading comes after a quarter of the interval, so that a run on a
        // loaded machine does not spend its first interval on threads that wait.
        let window = if self.readings == 0 {
            self.every / 4
        } else {
            self.every
        };
        if at.elapsed() < window {
            return None;
        }
        self.readings += 1;
        let now = read_counters()?;
        self.last = Some((Instant::now(), now));
        let own = now.own.saturating_sub(before.own);
        let total = now.total.saturating_sub(before.total);
        let others = now.busy.saturating_sub(before.busy).saturating_sub(own);
        // `total` spans every core of the machine. Where this process may use fewer (a cgroup
        // or taskset), the other load is taken to spread evenly, so the share of it on this
        // process's cores is `self.cores * others / total` all the same.
        Some(Load {
            others: in_cores(self.cores, others, total),
            free: free_cores(self.cores, others, total),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_cores_subtract_the_other_processes_load() {
        // 2 cores for 1 s at 100 ticks/s: 400 ticks in all.
        assert_eq!(free_cores(2, 0, 400), 2);
        assert_eq!(free_cores(2, 20, 400), 2, "a 0.1-core background stays 2");
        assert_eq!(free_cores(2, 200, 400), 1, "one CPU-bound peer leaves 1");
        assert_eq!(free_cores(2, 400, 400), 1, "never below 1");
        assert_eq!(free_cores(16, 4 * 100, 16 * 100), 12);
        assert_eq!(free_cores(4, 0, 0), 4, "an empty window says nothing");
    }

    #[test]
    fn proc_lines_parse() {
        let stat = "cpu  100 5 50 800 20 1 2 3 0 0\ncpu0 50 2 25 400 10 0 1 1 0 0\n";
        assert_eq!(parse_stat(stat), Some((161, 981)));
        let own = "1234 (dp synth) R 1 2 3 4 5 6 7 8 9 10 77 33 0 0 20 0 3 0 100";
        assert_eq!(parse_self_stat(own), Some(110));
        assert_eq!(parse_stat("intr 1 2 3"), None);
    }

    #[test]
    fn a_busy_child_process_counts_as_other_load() {
        let mut watch = CoreWatch::new(Duration::from_millis(500));
        if watch.last.is_none() || watch.cores < 2 {
            return; // no /proc here, or nothing to free
        }
        let mut child = std::process::Command::new("sh")
            .args(["-c", "while :; do :; done"])
            .spawn()
            .expect("sh runs");
        std::thread::sleep(Duration::from_millis(1500));
        let load = watch.poll();
        child.kill().expect("the busy loop stops");
        child.wait().ok();
        let load = load.expect("the interval passed");
        // The loop holds a core (at least a share of one when the tests beside it are busy).
        assert!(load.others >= 0.25, "measured {load:?}");
        assert!(
            load.free < watch.cores || load.others < 0.5,
            "measured {load:?}"
        );
    }
}
