-- Console sessions: the cookie holds a random secret, the table its SHA-256 (a copy of the table
-- opens no browser's session). Ended by logout (deleted) or by time (expires_at).
CREATE TABLE sessions (
    id              TEXT PRIMARY KEY,
    username        TEXT NOT NULL,
    role            TEXT NOT NULL,
    department_code TEXT,
    csrf_token      TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP NOT NULL
);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);
CREATE INDEX sessions_username_idx ON sessions (username);
