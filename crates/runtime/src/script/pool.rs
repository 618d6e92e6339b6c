//! A fixed set of worker threads, each owning one warm QuickJS runtime.
//!
//! QuickJS is synchronous and its runtimes are not `Send`, so each lives on its own
//! thread; calls are queued to whichever worker is free and answered through a
//! oneshot channel. Workers start on first use, so hubs that never run a script
//! (most tests) never pay for them; they stop when the last pool handle is dropped.

use std::panic::AssertUnwindSafe;
use std::sync::{mpsc, Arc, Mutex, OnceLock};

use switchboard_contract::ConnectorError;
use tokio::sync::oneshot;

use super::sandbox::{Sandbox, MAX_STACK_BYTES};

type Job = Box<dyn FnOnce(Result<&mut Sandbox, String>) + Send>;

/// Handle to the workers; cheap to clone.
#[derive(Clone)]
pub struct ScriptPool {
    inner: Arc<PoolInner>,
}

struct PoolInner {
    workers: usize,
    sender: OnceLock<mpsc::Sender<Job>>,
}

impl ScriptPool {
    pub fn new(workers: usize) -> Self {
        ScriptPool {
            inner: Arc::new(PoolInner {
                workers: workers.max(1),
                sender: OnceLock::new(),
            }),
        }
    }

    pub fn workers(&self) -> usize {
        self.inner.workers
    }

    fn sender(&self) -> &mpsc::Sender<Job> {
        self.inner.sender.get_or_init(|| {
            let (tx, rx) = mpsc::channel::<Job>();
            let rx = Arc::new(Mutex::new(rx));
            for i in 0..self.inner.workers {
                let rx = rx.clone();
                let spawned = std::thread::Builder::new()
                    .name(format!("switchboard-script-{i}"))
                    .stack_size(MAX_STACK_BYTES * 8)
                    .spawn(move || worker(rx));
                if let Err(e) = spawned {
                    tracing::error!(error = %e, "cannot start a script worker thread");
                }
            }
            tx
        })
    }

    /// Runs `f` on a free worker's sandbox.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Sandbox) -> T + Send + 'static,
    ) -> Result<T, ConnectorError> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |sandbox| {
            let _ = tx.send(sandbox.map(f));
        });
        self.sender()
            .send(job)
            .map_err(|_| ConnectorError::internal("the script pool has stopped"))?;
        match rx.await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(ConnectorError::internal(e)),
            Err(_) => Err(ConnectorError::internal(
                "the script runtime failed while running the call; the error was logged",
            )),
        }
    }
}

fn worker(rx: Arc<Mutex<mpsc::Receiver<Job>>>) {
    let mut sandbox = Sandbox::new();
    loop {
        let job = {
            let Ok(guard) = rx.lock() else { return };
            match guard.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        if sandbox.is_err() {
            sandbox = Sandbox::new();
        }
        let ran = std::panic::catch_unwind(AssertUnwindSafe(|| match &mut sandbox {
            Ok(s) => job(Ok(s)),
            Err(e) => job(Err(e.clone())),
        }));
        let replace = match (&ran, &sandbox) {
            (Err(_), _) => {
                tracing::error!("a script runtime panicked; replacing it");
                true
            }
            (Ok(()), Ok(s)) => s.poisoned,
            (Ok(()), Err(_)) => false,
        };
        if replace {
            // Drop the old runtime first so its memory is back before the new one starts.
            drop(std::mem::replace(&mut sandbox, Err(String::new())));
            sandbox = Sandbox::new();
        }
    }
}
