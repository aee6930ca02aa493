//! Sending the synthetic trace: one sender per destination, each bounded by the user's --timeout,
//! and the arrival proofs bounded by --wait.

/// Run futures concurrently on this thread and collect their results in order.
pub async fn join_all<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.map(Box::pin).collect();
    let mut results: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, slot) in pinned.iter_mut().zip(results.iter_mut()) {
            if slot.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    results
        .into_iter()
        .map(|r| r.expect("every future finished"))
        .collect()
}

/// Drop a runtime without waiting for its blocking threads: a DNS lookup stuck in the system
/// resolver must not hold the process past the deadline the user gave.
pub fn shut_down(runtime: tokio::runtime::Runtime) {
    runtime.shutdown_background();
}
