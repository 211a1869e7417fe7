//! Runnable examples of the voipms SDK live in `examples/examples/`.
