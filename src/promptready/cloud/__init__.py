"""The hosted credit proxy: device auth, credit wallets, cohorts and the weekly budget breaker."""
