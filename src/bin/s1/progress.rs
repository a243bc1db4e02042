//! Progress on stderr (indicatif): waits for rate-limit slots, query
//! progress and downloads. Drawn only when stderr is a terminal and
//! `--quiet` is not given; hidden otherwise.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use sentinelone::dv::QueryStatus;
use sentinelone::lrq;
use sentinelone::{ClientBuilder, DownloadProgress, WaitEvent};

use crate::output::printable;

/// How often spinners move.
const TICK: Duration = Duration::from_millis(120);

/// Waits shorter than this are not shown.
const SHORT_WAIT: Duration = Duration::from_secs(1);

/// The progress display of one run of `s1`. Cheap to clone.
#[derive(Clone)]
pub struct Progress {
    bars: MultiProgress,
    visible: bool,
    downloads: Arc<Mutex<HashMap<PathBuf, ProgressBar>>>,
}

impl Progress {
    /// A display on stderr, hidden when `quiet` or when stderr is not a
    /// terminal.
    pub fn new(quiet: bool) -> Self {
        let visible = !quiet && std::io::stderr().is_terminal();
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Progress {
            bars: MultiProgress::with_draw_target(target),
            visible,
            downloads: Arc::default(),
        }
    }

    /// `builder` reporting its waits and downloads here.
    pub fn attach(&self, builder: ClientBuilder) -> ClientBuilder {
        let waits = self.clone();
        let downloads = self.clone();
        builder
            .on_wait(move |event| waits.wait(event))
            .on_download(move |progress| downloads.download(progress))
    }

    /// Shows a wait ("waiting 43 s for the dv/init-query slot") for as long
    /// as it lasts; waits shorter than [`SHORT_WAIT`] are not worth a line.
    fn wait(&self, event: &WaitEvent) {
        if !self.visible || event.wait < SHORT_WAIT {
            return;
        }
        let bar = self.spinner(event.to_string());
        let wait = event.wait;
        std::thread::spawn(move || {
            std::thread::sleep(wait);
            bar.finish_and_clear();
        });
    }

    /// Follows one download: a bar when the size is known, a byte counter
    /// otherwise; cleared once the file is in place.
    fn download(&self, progress: &DownloadProgress) {
        let mut downloads = self.downloads.lock().unwrap_or_else(|e| e.into_inner());
        let bar = downloads
            .entry(progress.path.clone())
            .or_insert_with(|| self.download_bar(progress));
        bar.set_position(progress.received);
        if progress.done {
            bar.finish_and_clear();
            downloads.remove(&progress.path);
        }
    }

    fn download_bar(&self, progress: &DownloadProgress) -> ProgressBar {
        let name = progress
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| progress.path.display().to_string());
        let (bar, template) = match progress.total {
            Some(total) => (
                ProgressBar::new(total),
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
            ),
            None => (
                ProgressBar::no_length(),
                "{spinner} {msg} {bytes} {bytes_per_sec}",
            ),
        };
        let bar = self.bars.add(bar);
        bar.set_style(style(template));
        bar.set_message(printable(&format!("downloading {name}")).into_owned());
        bar
    }

    /// A bar for a job that reports its progress in percent (a query);
    /// feed it with [`JobBar::updater`].
    pub fn job(&self, what: impl Into<String>) -> JobBar {
        let bar = self.bars.add(ProgressBar::new(100));
        bar.set_style(style("{spinner} {prefix} {msg} [{bar:30}] {pos}%"));
        bar.set_prefix(printable(&what.into()).into_owned());
        if self.visible {
            bar.enable_steady_tick(TICK);
        }
        JobBar { bar }
    }

    /// A spinner with `message`, turning until finished.
    pub fn spinner(&self, message: impl Into<String>) -> ProgressBar {
        let bar = self.bars.add(ProgressBar::new_spinner());
        bar.set_style(style("{spinner} {msg} ({elapsed})"));
        bar.set_message(printable(&message.into()).into_owned());
        if self.visible {
            bar.enable_steady_tick(TICK);
        }
        bar
    }

    /// Removes whatever is still drawn.
    pub fn clear(&self) {
        // Errors here only mean stderr is gone; nothing to tell.
        let _ = self.bars.clear();
    }
}

/// The progress of one job; cleared when dropped.
pub struct JobBar {
    bar: ProgressBar,
}

impl JobBar {
    /// A callback for the job's status checks: shows its state and how
    /// far along it is.
    pub fn updater(&self) -> impl Fn(&QueryStatus) + Send + Sync + 'static {
        let bar = self.bar.clone();
        move |status| {
            bar.set_message(printable(&status.state.to_string()).into_owned());
            if let Some(percent) = status.progress {
                bar.set_position(percent.clamp(0, 100) as u64);
            }
        }
    }
}

impl JobBar {
    /// A callback for Long Running Query answers: shows the steps done
    /// and in all over every query of the job (a sliced window runs
    /// several), as a message and a percentage.
    pub fn lrq_updater(&self) -> impl Fn(&lrq::Progress) + Send + Sync + 'static {
        let bar = self.bar.clone();
        let steps = Mutex::new(HashMap::<String, (i64, i64)>::new());
        move |p| {
            let mut steps = steps.lock().unwrap_or_else(|e| e.into_inner());
            steps.insert(
                p.query_id.clone(),
                (p.steps_completed.max(0), p.steps_total.max(0)),
            );
            let (done, total) = steps
                .values()
                .fold((0i64, 0i64), |(d, t), (sd, st)| (d + sd, t + st));
            bar.set_message(format!(
                "steps {done}/{total} ({} quer{})",
                steps.len(),
                if steps.len() == 1 { "y" } else { "ies" }
            ));
            if total > 0 {
                bar.set_position((done.saturating_mul(100) / total).clamp(0, 100) as u64);
            }
        }
    }
}

impl Drop for JobBar {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}
