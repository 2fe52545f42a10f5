"""Hand-written fakes that speak real protocols on real sockets."""
