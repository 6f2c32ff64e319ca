-- Strangers cannot lock an account's owner out, and a donation shows only to its donor.
--
-- login_attempts now counts three things apart: failed log-ins ('login'), sign-up requests
-- ('signup') and password-reset requests and uses ('reset'). Only failed log-ins count
-- against log-in. A failed log-in made with a valid device cookie records the cookie's hash
-- in device: those failures lock out that device only. mailed marks the request that sent
-- an email, so an address gets at most one sign-up and one reset email per window.
ALTER TABLE login_attempts
    ADD COLUMN kind text NOT NULL DEFAULT 'login' CHECK (kind IN ('login', 'signup', 'reset')),
    ADD COLUMN device bytea,
    ADD COLUMN mailed boolean NOT NULL DEFAULT false;
DROP INDEX login_attempts_email;
DROP INDEX login_attempts_client;
CREATE INDEX login_attempts_email ON login_attempts (kind, email, at);
CREATE INDEX login_attempts_client ON login_attempts (kind, client, at);

-- Device cookies (OWASP's "device cookies" against account lockout): a browser that has
-- logged in to an account holds a random token; only its SHA-256 is kept here.
CREATE TABLE login_devices (
    token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX login_devices_user ON login_devices (user_id);

-- The SHA-256 of the secret the donating browser holds (a short-lived cookie): the
-- thank-you and cancelled pages show the donation only to that browser.
ALTER TABLE donations ADD COLUMN giver_hash bytea CHECK (length(giver_hash) = 32);
