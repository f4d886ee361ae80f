"""Market data layer: instruments, sessions, trading calendar, bars."""
