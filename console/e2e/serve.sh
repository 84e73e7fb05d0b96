#!/bin/sh
# The server the browser tests drive: the real binary on a freshly seeded demo database
# (playwright.config.ts sets the variables). The simulated payment provider confirms
# refunds at once, as WeChat Pay's sandbox would.
set -eu
rm -rf "$E2E_DATA_DIR"
mkdir -p "$E2E_DATA_DIR"
# SQLite unless E2E_DATABASE_URL names an empty PostgreSQL database to seed instead.
export DATABASE_URL="${E2E_DATABASE_URL:-sqlite://$E2E_DATA_DIR/demo.db?mode=rwc}"
"$ZHIKU_BIN" seed --demo >/dev/null
exec "$ZHIKU_BIN" serve --listen "127.0.0.1:${E2E_PORT:-18431}"
