//! One `send` at a time, and a gentle stop: the campaign lock held for the whole of a run, and
//! Ctrl-C, which ends a run at once before anything left, and later starts no new message but
//! lets those in flight finish.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use anyhow::{Context, Result, anyhow, bail};

use crate::exit::Exit;
use crate::ledger;

/// The lock file under `.appeal/`: held (flock, exclusive) for the whole of a `send`.
pub const LOCK_FILE: &str = "lock";

/// An exclusive lock on the campaign, released when dropped (or when the process dies, even
/// by `kill -9`: the kernel drops the lock with the file descriptor).
#[derive(Debug)]
pub struct CampaignLock {
    _file: File,
    pub path: PathBuf,
}

impl CampaignLock {
    /// Takes the lock of `<campaign_dir>/.appeal/` without waiting. The directory must exist
    /// (opening the ledger makes it).
    pub fn acquire(campaign_dir: &Path) -> Result<CampaignLock> {
        use std::os::unix::fs::OpenOptionsExt;
        let path = campaign_dir.join(ledger::DIR).join(LOCK_FILE);
        if let Ok(meta) = std::fs::symlink_metadata(&path)
            && !meta.is_file()
        {
            bail!(
                "{} is not a regular file (a link?); remove it and run again",
                path.display()
            );
        }
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("cannot open the campaign lock {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(CampaignLock { _file: file, path }),
            Err(std::fs::TryLockError::WouldBlock) => bail!(
                "another `appeal send` is running for this campaign, or an `appeal pdf` (it \
                 holds {}); wait for it to finish, then run `appeal status`",
                path.display()
            ),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(anyhow!(e).context(format!("cannot lock {}", path.display())))
            }
        }
    }
}

/// Ctrl-C (SIGINT) during `send`. Until the first message may leave ([`Interrupt::start_sending`])
/// it ends the run at once, saying nothing was sent; after that it starts no new message and
/// lets those in flight finish.
#[derive(Debug, Clone)]
pub struct Interrupt {
    set: Arc<AtomicBool>,
    phase: Arc<AtomicU8>,
}

/// Nothing can have left yet: Ctrl-C ends the run at once.
const PREPARING: u8 = 0;
/// Messages may be on their way: Ctrl-C stops gently.
const SENDING: u8 = 1;
/// Ctrl-C came while preparing: the run is ending.
const ENDING: u8 = 2;

impl Interrupt {
    /// Catches SIGINT from now on (for the rest of the process) on a small thread of its own.
    /// Returns once the handler is in place.
    pub fn install() -> Result<Interrupt> {
        let flag = Interrupt {
            set: Arc::default(),
            phase: Arc::new(AtomicU8::new(PREPARING)),
        };
        let handler = flag.clone();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<()>>();
        std::thread::Builder::new()
            .name("appeal-sigint".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = ready_tx.send(Err(anyhow!(e)));
                        return;
                    }
                };
                runtime.block_on(async move {
                    use tokio::signal::unix::{SignalKind, signal};
                    let mut sigint = match signal(SignalKind::interrupt()) {
                        Ok(s) => s,
                        Err(e) => {
                            let _ = ready_tx.send(Err(anyhow!(e)));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    while sigint.recv().await.is_some() {
                        handler.heard();
                    }
                });
            })
            .context("cannot start the Ctrl-C handler")?;
        ready_rx
            .recv()
            .map_err(|_| anyhow!("the Ctrl-C handler did not start"))?
            .context("cannot catch Ctrl-C")?;
        Ok(flag)
    }

    /// One Ctrl-C: before sending, the end of the run; during it, a gentle stop, then (a second
    /// one) a hard one.
    fn heard(&self) {
        let preparing = self
            .phase
            .compare_exchange(PREPARING, ENDING, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok();
        if preparing {
            // Nothing has left and nothing half-written is kept: the ledger is transactional
            // and files are renamed into place whole.
            eprintln!("\nappeal: interrupted: nothing sent");
            std::process::exit(i32::from(Exit::Interrupted.code()));
        }
        if !self.set.swap(true, Ordering::SeqCst) {
            eprintln!(
                "\nappeal: interrupted: starting no new message; finishing those in flight \
                 (Ctrl-C again to stop at once)"
            );
        } else {
            // A second Ctrl-C: stop now. The ledger already says `sending` for any message cut
            // off, which the next run reports as in doubt.
            eprintln!(
                "\nappeal: interrupted again: stopping now; messages cut off are in doubt (see \
                 `appeal status`)"
            );
            std::process::exit(i32::from(Exit::Interrupted.code()));
        }
    }

    /// From here on messages may leave (or files be written), so Ctrl-C stops gently. `false`
    /// when Ctrl-C came first: the run is ending and must start nothing.
    pub fn start_sending(&self) -> bool {
        match self
            .phase
            .compare_exchange(PREPARING, SENDING, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) => true,
            Err(phase) => phase == SENDING,
        }
    }

    /// Whether Ctrl-C was pressed while sending.
    pub fn is_set(&self) -> bool {
        self.set.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_is_exclusive_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(ledger::DIR)).unwrap();
        let first = CampaignLock::acquire(dir.path()).unwrap();
        let err = CampaignLock::acquire(dir.path()).unwrap_err();
        assert!(format!("{err:#}").contains("another `appeal send`"));
        drop(first);
        CampaignLock::acquire(dir.path()).unwrap();
    }
}
